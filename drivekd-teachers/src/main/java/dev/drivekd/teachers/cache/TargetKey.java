package dev.drivekd.teachers.cache;

/**
 * Names one cached target of a sample: which teacher, which signal (a loss key such as {@code
 * p:first_att_Atv}) and which resolved teacher layer.
 *
 * @param teacher the teacher's name
 * @param signal the signal's key
 * @param layer a resolved teacher layer index, {@code 0 <= layer < depth}
 */
public record TargetKey(String teacher, String signal, int layer) {

  /** Checks the fields. */
  public TargetKey {
    if (teacher == null || signal == null || signal.isBlank() || layer < 0) {
      throw new IllegalArgumentException(
          "a target key needs a teacher, a signal and a layer >= 0: "
              + teacher
              + "/"
              + signal
              + "/"
              + layer);
    }
  }

  @Override
  public String toString() {
    return teacher + "/" + signal + "/layer " + layer;
  }
}
