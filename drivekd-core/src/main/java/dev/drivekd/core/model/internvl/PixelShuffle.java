package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * InternVL's {@code pixel_shuffle} with scale 0.5 and {@code ps_version} v2 (method.md 6.6): view
 * {@code [n, w, h/2, 2C]}, permute to {@code [n, h/2, w, 2C]}, view {@code [n, h/2, w/2, 4C]},
 * permute to {@code [n, w/2, h/2, 4C]}. Output token {@code (i, j)} concatenates the input tokens
 * {@code (2i, 2j), (2i, 2j+1), (2i+1, 2j), (2i+1, 2j+1)}, in that order.
 */
final class PixelShuffle {

  private PixelShuffle() {}

  /**
   * Shuffles a square grid of tokens.
   *
   * @param x {@code [n, g, g, C]} with {@code g} even
   * @return {@code [n, g/2, g/2, 4C]}
   */
  static NDArray shuffle(NDArray x) {
    Shape s = x.getShape();
    if (s.dimension() != 4 || s.get(1) % 2 != 0 || s.get(2) % 2 != 0) {
      throw new IllegalArgumentException(
          "pixel shuffle needs [n, w, h, C] with w, h even, got " + s);
    }
    long n = s.get(0);
    long w = s.get(1);
    long h = s.get(2);
    long c = s.get(3);
    return x.reshape(n, w, h / 2, 2 * c)
        .transpose(0, 2, 1, 3)
        .reshape(n, h / 2, w / 2, 4 * c)
        .transpose(0, 2, 1, 3);
  }
}
