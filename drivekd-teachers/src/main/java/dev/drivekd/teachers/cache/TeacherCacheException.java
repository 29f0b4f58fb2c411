package dev.drivekd.teachers.cache;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A teacher-target cache that cannot be written, read or used for this run: a checksum or version
 * mismatch, a recipe, teacher or dataset that differs from what the caller expects, a malformed
 * record. The message starts with the file, then the record or field, then the problem.
 */
public class TeacherCacheException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String field;

  /**
   * Creates an exception.
   *
   * @param file the file at fault (index or chunk), or the cache folder
   * @param field the record or field, such as {@code sample 12} or {@code datasetFingerprint}, or
   *     null
   * @param problem what is wrong and what was expected
   * @param cause the underlying exception, or null
   */
  public TeacherCacheException(Path file, String field, String problem, Throwable cause) {
    super(file + ": " + (field == null ? "" : field + ": ") + problem, cause);
    this.file = file;
    this.field = field;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The record or field at fault, when one is. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }
}
