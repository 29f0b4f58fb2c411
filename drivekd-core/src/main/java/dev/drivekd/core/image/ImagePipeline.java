package dev.drivekd.core.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.engine.HostData;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The reference's image preprocessing (method.md 6.6): open, convert to RGB, squash to {@code S x
 * S} with PIL's antialiased bicubic ({@code Resize((S,S), BICUBIC)}, aspect ratio not kept), then
 * {@code ToTensor} ({@code /255}, {@code CHW}) and {@code Normalize(mean, std)}. One image gives
 * one tile; there is no dynamic tiling.
 *
 * <p>Arithmetic is float32 as in torchvision: {@code ((v / 255f) - mean[c]) / std[c]}.
 */
public final class ImagePipeline {

  /** ImageNet channel means, as InternVL uses them. */
  public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};

  /** ImageNet channel standard deviations. */
  public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private final int size;
  private final float[] mean;
  private final float[] std;

  /**
   * Creates a pipeline.
   *
   * @param size the square side {@code S}, at least 1
   * @param mean per-channel mean (R, G, B)
   * @param std per-channel standard deviation (R, G, B), non-zero
   */
  public ImagePipeline(int size, float[] mean, float[] std) {
    if (size < 1) {
      throw new IllegalArgumentException("image size must be >= 1, got " + size);
    }
    Objects.requireNonNull(mean, "mean");
    Objects.requireNonNull(std, "std");
    if (mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException("mean and std need 3 channels each");
    }
    for (float s : std) {
      if (s == 0f || !Float.isFinite(s)) {
        throw new IllegalArgumentException("std must be finite and non-zero");
      }
    }
    this.size = size;
    this.mean = mean.clone();
    this.std = std.clone();
  }

  /** {@code S x S} with ImageNet mean and std (InternVL3 uses {@code S = 448}). */
  public static ImagePipeline imageNet(int size) {
    return new ImagePipeline(size, IMAGENET_MEAN, IMAGENET_STD);
  }

  /** The square side {@code S}. */
  public int imageSize() {
    return size;
  }

  /**
   * Decodes {@code file} to RGB.
   *
   * @throws ImageLoadException naming the file when it is missing or not an image
   */
  public RgbImage load(Path file) {
    return ImageDecoder.read(file);
  }

  /** Squashes {@code image} to {@code S x S} with PIL's bicubic. */
  public RgbImage resize(RgbImage image) {
    return PilBicubicResampler.resize(image, size, size);
  }

  /**
   * ToTensor and Normalize of an {@code S x S} image: {@code 3*S*S} floats, {@code CHW}.
   *
   * @throws IllegalArgumentException if the image is not {@code S x S}
   */
  public float[] toTensor(RgbImage image) {
    float[] out = new float[3 * size * size];
    toTensor(image, out, 0);
    return out;
  }

  /** Decodes, resizes and normalises {@code file}: {@code 3*S*S} floats, {@code CHW}. */
  public float[] preprocess(Path file) {
    return toTensor(resize(load(file)));
  }

  /** {@link #preprocess(Path)} as a {@code [3, S, S]} float32 array on {@code manager}. */
  public NDArray preprocess(NDManager manager, Path file) {
    return HostData.owned(manager.create(preprocess(file), new Shape(3, size, size)));
  }

  /**
   * Preprocesses {@code files} in order into one {@code [N, 3, S, S]} float32 array.
   *
   * @throws IllegalArgumentException if {@code files} is empty
   * @throws ImageLoadException naming the first file that fails
   */
  public NDArray batch(NDManager manager, List<Path> files) {
    if (files.isEmpty()) {
      throw new IllegalArgumentException("a batch of images needs at least one file");
    }
    int per = 3 * size * size;
    float[] data = new float[Math.multiplyExact(files.size(), per)];
    for (int i = 0; i < files.size(); i++) {
      toTensor(resize(load(files.get(i))), data, i * per);
    }
    return HostData.owned(manager.create(data, new Shape(files.size(), 3, size, size)));
  }

  /** Writes the normalised {@code CHW} values of an {@code S x S} image at {@code offset}. */
  void toTensor(RgbImage image, float[] out, int offset) {
    if (image.width() != size || image.height() != size) {
      throw new IllegalArgumentException(
          "expected a "
              + size
              + "x"
              + size
              + " image, got "
              + image.width()
              + "x"
              + image.height());
    }
    byte[] px = image.pixels();
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      float m = mean[c];
      float s = std[c];
      int base = offset + c * plane;
      for (int i = 0; i < plane; i++) {
        float v = (px[i * 3 + c] & 0xff) / 255f;
        out[base + i] = (v - m) / s;
      }
    }
  }
}
