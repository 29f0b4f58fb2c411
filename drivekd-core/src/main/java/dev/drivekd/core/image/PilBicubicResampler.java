package dev.drivekd.core.image;

/**
 * PIL's {@code Image.resize(size, BICUBIC)} for 8-bit images, step for step (Pillow {@code
 * libImaging/Resample.c}), so that resized pixels equal PIL's:
 *
 * <ul>
 *   <li>Keys cubic kernel with {@code a = -0.5}, support 2;
 *   <li>antialiasing: when shrinking by {@code scale = in/out > 1} the kernel is stretched by
 *       {@code scale} (support {@code 2*scale}, argument divided by {@code scale});
 *   <li>output pixel {@code i} is centred at {@code (i + 0.5) * scale}; the taps run from {@code
 *       (int)(center - support + 0.5)} to {@code (int)(center + support + 0.5)}, clipped to the
 *       image, and their weights are divided by their sum;
 *   <li>weights are then fixed-point: {@code (int)(w * 2^22 ± 0.5)}; each output is {@code 2^21 +
 *       sum(pixel * weight)}, shifted right by 22 and clamped to {@code 0..255};
 *   <li>two separable passes, horizontal first (only over the rows the vertical pass reads), with
 *       the 8-bit rounding and clamping between them; a pass whose size does not change is skipped.
 * </ul>
 */
public final class PilBicubicResampler {

  private static final int PRECISION_BITS = 32 - 8 - 2;
  private static final double SUPPORT = 2.0;
  private static final double A = -0.5;

  private PilBicubicResampler() {}

  /** Resizes {@code image} to {@code width x height} as PIL's bicubic resize does. */
  public static RgbImage resize(RgbImage image, int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("target size must be positive: " + width + "x" + height);
    }
    boolean horizontal = width != image.width();
    boolean vertical = height != image.height();
    if (!horizontal && !vertical) {
      return new RgbImage(width, height, image.pixels().clone());
    }
    Coefficients h = Coefficients.of(image.width(), width);
    Coefficients v = Coefficients.of(image.height(), height);
    RgbImage current = image;
    int[] vBounds = v.bounds.clone();
    if (horizontal) {
      int firstRow = vertical ? v.bounds[0] : 0;
      int lastRow =
          vertical ? v.bounds[(height - 1) * 2] + v.bounds[(height - 1) * 2 + 1] : image.height();
      if (vertical) {
        for (int i = 0; i < height; i++) {
          vBounds[i * 2] -= firstRow;
        }
      }
      current = horizontalPass(current, width, firstRow, lastRow - firstRow, h);
    }
    if (vertical) {
      current = verticalPass(current, height, vBounds, v);
    }
    return current;
  }

  /** The Keys cubic kernel with {@code a = -0.5}, as PIL's {@code bicubic_filter}. */
  static double bicubic(double x) {
    if (x < 0.0) {
      x = -x;
    }
    if (x < 1.0) {
      return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * A;
    }
    return 0.0;
  }

  private static RgbImage horizontalPass(
      RgbImage in, int outWidth, int firstRow, int rows, Coefficients c) {
    byte[] src = in.pixels();
    byte[] dst = new byte[outWidth * rows * 3];
    int inWidth = in.width();
    for (int y = 0; y < rows; y++) {
      int srcRow = (y + firstRow) * inWidth * 3;
      int dstRow = y * outWidth * 3;
      for (int xx = 0; xx < outWidth; xx++) {
        int xmin = c.bounds[xx * 2];
        int xmax = c.bounds[xx * 2 + 1];
        int k = xx * c.ksize;
        int ss0 = 1 << (PRECISION_BITS - 1);
        int ss1 = ss0;
        int ss2 = ss0;
        for (int x = 0; x < xmax; x++) {
          int p = srcRow + (x + xmin) * 3;
          int w = c.fixed[k + x];
          ss0 += (src[p] & 0xff) * w;
          ss1 += (src[p + 1] & 0xff) * w;
          ss2 += (src[p + 2] & 0xff) * w;
        }
        int o = dstRow + xx * 3;
        dst[o] = clip8(ss0);
        dst[o + 1] = clip8(ss1);
        dst[o + 2] = clip8(ss2);
      }
    }
    return new RgbImage(outWidth, rows, dst);
  }

  private static RgbImage verticalPass(RgbImage in, int outHeight, int[] bounds, Coefficients c) {
    byte[] src = in.pixels();
    int width = in.width();
    byte[] dst = new byte[width * outHeight * 3];
    for (int yy = 0; yy < outHeight; yy++) {
      int ymin = bounds[yy * 2];
      int ymax = bounds[yy * 2 + 1];
      int k = yy * c.ksize;
      for (int xx = 0; xx < width; xx++) {
        int ss0 = 1 << (PRECISION_BITS - 1);
        int ss1 = ss0;
        int ss2 = ss0;
        for (int y = 0; y < ymax; y++) {
          int p = ((y + ymin) * width + xx) * 3;
          int w = c.fixed[k + y];
          ss0 += (src[p] & 0xff) * w;
          ss1 += (src[p + 1] & 0xff) * w;
          ss2 += (src[p + 2] & 0xff) * w;
        }
        int o = (yy * width + xx) * 3;
        dst[o] = clip8(ss0);
        dst[o + 1] = clip8(ss1);
        dst[o + 2] = clip8(ss2);
      }
    }
    return new RgbImage(width, outHeight, dst);
  }

  private static byte clip8(int in) {
    if (in >= (1 << PRECISION_BITS << 8)) {
      return (byte) 255;
    }
    if (in <= 0) {
      return 0;
    }
    return (byte) (in >> PRECISION_BITS);
  }

  /** The taps of one axis: per output index its first input index and count, and the weights. */
  static final class Coefficients {
    final int ksize;
    final int[] bounds;
    final double[] weights;
    final int[] fixed;

    private Coefficients(int ksize, int[] bounds, double[] weights) {
      this.ksize = ksize;
      this.bounds = bounds;
      this.weights = weights;
      this.fixed = new int[weights.length];
      for (int i = 0; i < weights.length; i++) {
        double scaled = weights[i] * (1 << PRECISION_BITS);
        fixed[i] = weights[i] < 0 ? (int) (-0.5 + scaled) : (int) (0.5 + scaled);
      }
    }

    /** PIL's {@code precompute_coeffs} for the box {@code [0, inSize)}. */
    static Coefficients of(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = SUPPORT * filterScale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] bounds = new int[outSize * 2];
      double[] kk = new double[outSize * ksize];
      double ss = 1.0 / filterScale;
      for (int xx = 0; xx < outSize; xx++) {
        double center = (xx + 0.5) * scale;
        int xmin = (int) (center - support + 0.5);
        if (xmin < 0) {
          xmin = 0;
        }
        int xmax = (int) (center + support + 0.5);
        if (xmax > inSize) {
          xmax = inSize;
        }
        xmax -= xmin;
        double ww = 0.0;
        int k = xx * ksize;
        for (int x = 0; x < xmax; x++) {
          double w = bicubic((x + xmin - center + 0.5) * ss);
          kk[k + x] = w;
          ww += w;
        }
        if (ww != 0.0) {
          for (int x = 0; x < xmax; x++) {
            kk[k + x] /= ww;
          }
        }
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
      }
      return new Coefficients(ksize, bounds, kk);
    }
  }
}
