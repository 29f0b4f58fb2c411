package dev.drivekd.core.attention;

/**
 * Resolves Python-style layer specs against a model depth, as the reference's {@code
 * _resolve_index} (trainer.py L172-186): {@code idx = spec >= 0 ? spec : depth + spec}, which must
 * satisfy {@code 0 <= idx < depth}.
 */
public final class LayerIndex {

  private LayerIndex() {}

  /**
   * Resolves one spec.
   *
   * @param spec a layer index, negative counts from the end ({@code -1} = last)
   * @param depth the number of decoder layers
   * @return the resolved index in {@code [0, depth)}
   * @throws LayerIndexException of kind {@link LayerIndexException.Kind#INDEX_OUT_OF_RANGE}
   */
  public static int resolve(int spec, int depth) {
    int resolved = spec >= 0 ? spec : depth + spec;
    if (resolved < 0 || resolved >= depth) {
      throw new LayerIndexException(
          LayerIndexException.Kind.INDEX_OUT_OF_RANGE,
          "Layer index out of range: spec="
              + spec
              + ", resolved="
              + resolved
              + ", total_layers="
              + depth);
    }
    return resolved;
  }
}
