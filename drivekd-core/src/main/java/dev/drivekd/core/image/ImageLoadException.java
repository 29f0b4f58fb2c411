package dev.drivekd.core.image;

import java.nio.file.Path;

/** An image file that is missing, unreadable or not a decodable image; the message names it. */
public class ImageLoadException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * Creates an exception.
   *
   * @param file the image file
   * @param problem what is wrong
   * @param cause the underlying exception, or null
   */
  public ImageLoadException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The image file. */
  public Path file() {
    return file;
  }
}
