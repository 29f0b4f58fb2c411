package dev.drivekd.core.train.checkpoint;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A checkpoint that cannot be written or read: a missing or corrupt file, a checksum or format
 * version mismatch, a malformed record. The message starts with the file, then the record or field
 * where one applies, then what was expected, e.g. {@code run/step-000120/student.dkt: SHA-256
 * mismatch (manifest 3f2a..., file 9b1c...)}.
 */
public class CheckpointException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String field;

  /**
   * Creates an exception about one file.
   *
   * @param file the file at fault (or the checkpoint folder)
   * @param field the record or field, such as {@code tensor 3 ('w').dtype}, or null
   * @param problem what is wrong and what was expected
   * @param cause the underlying exception, or null
   */
  public CheckpointException(Path file, String field, String problem, Throwable cause) {
    super(file + ": " + (field == null ? "" : field + ": ") + problem, cause);
    this.file = file;
    this.field = field;
  }

  /** Creates an exception about one file as a whole. */
  public CheckpointException(Path file, String problem, Throwable cause) {
    this(file, null, problem, cause);
  }

  /** The file (or folder) at fault. */
  public Path file() {
    return file;
  }

  /** The record or field at fault, when one is. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }
}
