package dev.drivekd.teachers.torchscript;

import java.nio.file.Path;

/**
 * A TorchScript model or its descriptor does not meet drivekd's contract (docs/torchscript.md): a
 * missing or malformed descriptor, an unsupported contract version, a failed load, or a forward
 * whose outputs have the wrong count or shape. The message names the file and what was expected.
 */
public class TorchScriptModelException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /** An error about {@code file}; the message is prefixed with the file's path. */
  public TorchScriptModelException(Path file, String message) {
    this(file, message, null);
  }

  /** An error about {@code file} caused by {@code cause}. */
  public TorchScriptModelException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The file the error is about (the {@code .pt} or its descriptor). */
  public Path file() {
    return file;
  }
}
