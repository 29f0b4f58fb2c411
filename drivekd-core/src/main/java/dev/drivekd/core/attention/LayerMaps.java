package dev.drivekd.core.attention;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A model's attention maps, handed out one head-averaged layer at a time, so that a loss asks for
 * exactly the layers it needs and no other layer is materialised. Arrays a source creates on demand
 * belong to the caller (they are closed by the caller's scope or sub-manager); a source must not
 * keep them.
 */
public interface LayerMaps {

  /** The number of decoder layers {@code N}. */
  int depth();

  /**
   * The head-averaged attention map of one layer.
   *
   * @param layer a resolved index in {@code [0, depth)}
   * @return {@code [B, L, L]}
   */
  NDArray headAveraged(int layer);

  /**
   * Wraps per-layer attention probabilities {@code [B, H, L, L]}; a layer is head-averaged only
   * when requested.
   */
  static LayerMaps ofProbabilities(List<NDArray> probabilities) {
    List<NDArray> layers = List.copyOf(probabilities);
    return of(layers.size(), layer -> HeadAverage.of(layers.get(checked(layer, layers.size()))));
  }

  /** Wraps per-layer maps that are already head-averaged ({@code [B, L, L]}). */
  static LayerMaps ofHeadAveraged(List<NDArray> maps) {
    List<NDArray> layers = List.copyOf(maps);
    return of(layers.size(), layer -> layers.get(checked(layer, layers.size())));
  }

  /**
   * A source that computes a layer's head-averaged map on request, for example by running the
   * model's attention for that layer only.
   */
  static LayerMaps of(int depth, IntFunction<NDArray> headAveragedLayer) {
    if (depth < 0) {
      throw new IllegalArgumentException("depth must be >= 0, got " + depth);
    }
    return new LayerMaps() {
      @Override
      public int depth() {
        return depth;
      }

      @Override
      public NDArray headAveraged(int layer) {
        return headAveragedLayer.apply(checked(layer, depth));
      }
    };
  }

  private static int checked(int layer, int depth) {
    if (layer < 0 || layer >= depth) {
      throw new IllegalArgumentException(
          "layer " + layer + " is not a resolved index of a model with " + depth + " layers");
    }
    return layer;
  }
}
