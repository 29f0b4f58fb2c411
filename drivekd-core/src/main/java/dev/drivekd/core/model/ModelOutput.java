package dev.drivekd.core.model;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.TokenLayout;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one forward pass returns. Arrays live in the batch's manager; the maps of a trainable model
 * stay in the autograd graph.
 *
 * @param logits {@code [B, L, V]}, or {@code null} when the request asked for none ({@link
 *     ForwardRequest#withoutLogits()}) and the model skipped them
 * @param headAveraged resolved layer index to its head-averaged map {@code [B, L, L]}, exactly the
 *     layers requested
 * @param perHead resolved layer index to its raw map {@code [B, H, L, L]} when requested, else
 *     empty
 * @param hiddenStates when requested, {@code N + 1} arrays {@code [B, L, D]}: the input embeddings
 *     then each decoder layer's output (Hugging Face's convention); else empty
 * @param depth the model's number of decoder layers {@code N}
 * @param layout the batch's token layout
 */
public record ModelOutput(
    NDArray logits,
    SortedMap<Integer, NDArray> headAveraged,
    SortedMap<Integer, NDArray> perHead,
    List<NDArray> hiddenStates,
    int depth,
    TokenLayout layout) {

  /** Copies the maps so the record stays as the model made it. */
  public ModelOutput {
    headAveraged = new TreeMap<>(headAveraged);
    perHead = new TreeMap<>(perHead);
    hiddenStates = List.copyOf(hiddenStates);
  }

  /**
   * The head-averaged maps as a {@link LayerMaps} source for the losses. Asking for a layer that
   * was not requested is an error that names the layers that were.
   */
  public LayerMaps attention() {
    Map<Integer, NDArray> maps = headAveraged;
    return LayerMaps.of(
        depth,
        layer -> {
          NDArray map = maps.get(layer);
          if (map == null) {
            throw new IllegalStateException(
                "layer "
                    + layer
                    + "'s attention was not requested in this forward pass; requested: "
                    + maps.keySet());
          }
          return map;
        });
  }
}
