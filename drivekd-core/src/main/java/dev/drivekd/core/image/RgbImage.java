package dev.drivekd.core.image;

import java.util.Objects;

/**
 * An 8-bit RGB image held row-major and channel-interleaved ({@code HWC}): the red value of pixel
 * {@code (x, y)} is {@code pixels[(y * width + x) * 3] & 0xff}, like a PIL {@code "RGB"} image.
 *
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param pixels {@code width * height * 3} bytes, not copied
 */
public record RgbImage(int width, int height, byte[] pixels) {

  /** Checks the sizes. */
  public RgbImage {
    Objects.requireNonNull(pixels, "pixels");
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
    }
    if ((long) width * height * 3 != pixels.length) {
      throw new IllegalArgumentException(
          "expected " + ((long) width * height * 3) + " bytes, got " + pixels.length);
    }
  }

  /** An image from unsigned channel values {@code 0..255}, {@code HWC} order. */
  public static RgbImage of(int width, int height, int... values) {
    byte[] bytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] > 255) {
        throw new IllegalArgumentException("channel value " + values[i] + " outside 0..255");
      }
      bytes[i] = (byte) values[i];
    }
    return new RgbImage(width, height, bytes);
  }

  /** The value {@code 0..255} of channel {@code c} at {@code (x, y)}. */
  public int get(int x, int y, int c) {
    return pixels[(y * width + x) * 3 + c] & 0xff;
  }
}
