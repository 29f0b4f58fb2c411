package dev.drivekd.core.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes an image file with ImageIO (PNG and JPEG, and whatever other readers are installed) and
 * converts it to 8-bit RGB the way PIL's {@code convert("RGB")} does:
 *
 * <ul>
 *   <li>RGB and RGBA: the colour samples as stored; alpha is dropped, not composited;
 *   <li>grey and grey+alpha: the grey sample copied to R, G and B (no gamma conversion; Java's
 *       {@code getRGB} would treat the grey as linear and brighten it);
 *   <li>palette images: the palette colour;
 *   <li>16-bit samples: the high byte (PIL parity is not claimed for 16-bit grey, which PIL
 *       clamps);
 *   <li>anything else: Java's sRGB conversion ({@code BufferedImage.getRGB}).
 * </ul>
 *
 * PNG decoding is lossless, so PNG pixels match PIL exactly. JPEG decoders differ in their inverse
 * DCT and chroma upsampling, so Java's and libjpeg's pixels of one JPEG can differ by a few levels.
 */
public final class ImageDecoder {

  private ImageDecoder() {}

  /**
   * Reads {@code file} as RGB.
   *
   * @throws ImageLoadException naming the file when it is missing, unreadable or not an image
   */
  public static RgbImage read(Path file) {
    if (!Files.exists(file)) {
      throw new ImageLoadException(file, "image file not found", null);
    }
    if (!Files.isRegularFile(file)) {
      throw new ImageLoadException(file, "not a regular file", null);
    }
    BufferedImage image;
    // A file-backed stream (no ImageIO cache file, no global ImageIO setting touched) and an
    // explicit reader, so the stream is closed exactly once.
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new ImageLoadException(file, "cannot open the file for reading", null);
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new ImageLoadException(
            file, "not a recognised image format (expected PNG or JPEG)", null);
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        image = reader.read(0, reader.getDefaultReadParam());
      } finally {
        reader.dispose();
      }
    } catch (ImageLoadException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new ImageLoadException(file, "cannot decode the image: " + e.getMessage(), e);
    }
    try {
      return toRgb(image);
    } catch (RuntimeException e) {
      throw new ImageLoadException(file, "cannot convert the image to RGB: " + e.getMessage(), e);
    }
  }

  /** Converts a decoded image to 8-bit RGB as PIL's {@code convert("RGB")} does. */
  public static RgbImage toRgb(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] out = new byte[w * h * 3];
    Raster raster = image.getRaster();
    int transfer = raster.getTransferType();
    if (image.getColorModel() instanceof ComponentColorModel cm
        && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT)) {
      int colorType = cm.getColorSpace().getType();
      int colors = cm.getNumColorComponents();
      boolean grey = colorType == ColorSpace.TYPE_GRAY && colors == 1;
      boolean rgb = colorType == ColorSpace.TYPE_RGB && colors == 3;
      boolean bandsMatch = raster.getNumBands() == colors + (cm.hasAlpha() ? 1 : 0);
      if ((grey || rgb) && bandsMatch) {
        int shift = transfer == DataBuffer.TYPE_USHORT ? 8 : 0;
        int bands = raster.getNumBands();
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
          raster.getPixels(0, y, w, 1, row);
          for (int x = 0; x < w; x++) {
            int o = (y * w + x) * 3;
            int in = x * bands;
            if (grey) {
              byte v = (byte) (row[in] >> shift);
              out[o] = v;
              out[o + 1] = v;
              out[o + 2] = v;
            } else {
              out[o] = (byte) (row[in] >> shift);
              out[o + 1] = (byte) (row[in + 1] >> shift);
              out[o + 2] = (byte) (row[in + 2] >> shift);
            }
          }
        }
        return new RgbImage(w, h, out);
      }
    }
    // Palette images (PIL "P": the palette colour) and other models: Java's conversion to sRGB.
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        int o = (y * w + x) * 3;
        out[o] = (byte) (argb >> 16);
        out[o + 1] = (byte) (argb >> 8);
        out[o + 2] = (byte) argb;
      }
    }
    return new RgbImage(w, h, out);
  }
}
