package dev.drivekd.core.train.checkpoint;

import java.util.List;

/**
 * {@code manifest.json} of a checkpoint folder, written last: the format and its version, the
 * folder's name, the step counters, and every part file with its format, size and SHA-256. A folder
 * whose manifest is missing or does not match its files is not a checkpoint.
 *
 * @param format always {@value #FORMAT}
 * @param version the format version, {@value #VERSION}
 * @param name the folder name, e.g. {@code step-000120}
 * @param createdAt ISO-8601 instant of the save
 * @param counters the step counters (also in {@code counters.json})
 * @param files every part file
 */
public record CheckpointManifest(
    String format,
    int version,
    String name,
    String createdAt,
    StepCounters counters,
    List<Part> files) {

  /** The format name. */
  public static final String FORMAT = "drivekd-checkpoint";

  /** The format version this build writes and reads. */
  public static final int VERSION = 1;

  /** The manifest's file name. */
  public static final String FILE_NAME = "manifest.json";

  /** Copies the part list. */
  public CheckpointManifest {
    files = files == null ? List.of() : List.copyOf(files);
  }

  /**
   * One part file.
   *
   * @param part what it holds: {@code counters}, {@code student-weights}, {@code optimizer}, {@code
   *     loss-weighting}, {@code accumulation}, {@code random-states}, {@code provenance}
   * @param file the file name inside the folder
   * @param format the file's format, e.g. {@code json}, {@code drivekd-tensors/1}
   * @param size bytes
   * @param sha256 lower-case hex SHA-256
   */
  public record Part(String part, String file, String format, long size, String sha256) {

    /** The size and digest. */
    public FileDigest digest() {
      return new FileDigest(size, sha256);
    }
  }

  /** The part named {@code part}, or null. */
  public Part find(String part) {
    for (Part p : files) {
      if (p.part().equals(part)) {
        return p;
      }
    }
    return null;
  }
}
