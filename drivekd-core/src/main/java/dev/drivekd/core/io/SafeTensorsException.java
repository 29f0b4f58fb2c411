package dev.drivekd.core.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file that is malformed, or a tensor that cannot be stored; names both. */
public final class SafeTensorsException extends IOException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String tensor;

  /**
   * Creates the exception.
   *
   * @param file the file being read or written
   * @param tensor the tensor at fault, or {@code null} when the problem is the file itself
   * @param problem what is wrong and what was expected
   */
  public SafeTensorsException(Path file, String tensor, String problem) {
    super(file + (tensor == null ? "" : ", tensor \"" + tensor + "\"") + ": " + problem);
    this.file = file;
    this.tensor = tensor;
  }

  /** The file being read or written. */
  public Path file() {
    return file;
  }

  /** The tensor at fault, or {@code null} when the problem is the file itself. */
  public String tensor() {
    return tensor;
  }
}
