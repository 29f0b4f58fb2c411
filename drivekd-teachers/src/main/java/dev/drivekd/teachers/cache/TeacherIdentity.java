package dev.drivekd.teachers.cache;

/**
 * Which teacher made cached targets: its name, a fingerprint of its weights (for example the
 * SHA-256 of its weight files) and its number of decoder layers (which layer specs such as {@code
 * -2} resolve against).
 *
 * @param name the teacher's name, unique within a cache
 * @param weightsFingerprint identifies the exact weights
 * @param depth decoder layers {@code N}
 */
public record TeacherIdentity(String name, String weightsFingerprint, int depth) {

  /** Checks that the fields are present. */
  public TeacherIdentity {
    if (name == null
        || name.isBlank()
        || weightsFingerprint == null
        || weightsFingerprint.isBlank()) {
      throw new IllegalArgumentException("a teacher needs a name and a weights fingerprint");
    }
    if (depth < 1) {
      throw new IllegalArgumentException("teacher '" + name + "' depth must be >= 1, got " + depth);
    }
  }
}
