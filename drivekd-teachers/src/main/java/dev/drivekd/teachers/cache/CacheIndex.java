package dev.drivekd.teachers.cache;

import java.util.List;

/**
 * {@code index.json} of a teacher-target cache, written last by {@link
 * TeacherTargetCacheWriter#finish()}: format and version, dtype, the dataset fingerprint, the
 * recipe (teachers with their weights fingerprints, entries), the panel the targets came from
 * (version 2) and every chunk with its size, SHA-256 and sample indices.
 *
 * <p>Versions: 1 has no {@code panel}; 2 adds it (the teachers' model cards, which teacher played
 * which capability, the student's encoding). This build writes version 2 and reads both; chunk
 * files are unchanged (chunk format version 1).
 *
 * @param format always {@value #FORMAT}
 * @param version {@value #VERSION} when written by this build, {@value #OLDEST_READABLE_VERSION}
 *     for older caches
 * @param dtype always {@code float32}
 * @param datasetFingerprint the dataset the targets were computed for
 * @param recipe teachers and entries
 * @param panel the teachers' cards and roles and the student's encoding, or null (version 1, or a
 *     cache written without them)
 * @param samples number of samples stored
 * @param chunks the chunk files
 */
public record CacheIndex(
    String format,
    int version,
    String dtype,
    String datasetFingerprint,
    CacheRecipe recipe,
    CachedPanel panel,
    int samples,
    List<Chunk> chunks) {

  /** The format name. */
  public static final String FORMAT = "drivekd-teacher-cache";

  /** The index version this build writes. */
  public static final int VERSION = 2;

  /** The oldest index version this build reads (version 1: no {@code panel}). */
  public static final int OLDEST_READABLE_VERSION = 1;

  /** The index's file name. */
  public static final String FILE_NAME = "index.json";

  /** Copies the chunk list. */
  public CacheIndex {
    chunks = chunks == null ? List.of() : List.copyOf(chunks);
  }

  /**
   * One chunk file.
   *
   * @param file its name in the cache folder
   * @param size bytes
   * @param sha256 lower-case hex SHA-256
   * @param samples the sample indices it holds, in file order
   */
  public record Chunk(String file, long size, String sha256, List<Integer> samples) {

    /** Copies the sample list. */
    public Chunk {
      samples = List.copyOf(samples);
    }
  }
}
