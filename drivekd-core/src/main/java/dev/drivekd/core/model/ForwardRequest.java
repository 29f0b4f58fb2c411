package dev.drivekd.core.model;

import dev.drivekd.core.attention.LayerIndex;
import java.util.Arrays;
import java.util.Collection;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a forward pass must return besides logits: the head-averaged attention maps of exactly the
 * listed layers, and optionally their raw per-head maps and the decoder's hidden states. Layers are
 * given as the reference writes them ({@code 0} first, {@code -2} penultimate) and resolved against
 * the model's depth with {@link #resolvedLayers(int)}. A model materialises no map for an unlisted
 * layer.
 */
public final class ForwardRequest {

  private static final ForwardRequest LOGITS_ONLY =
      new ForwardRequest(new int[0], false, false, true);

  private final int[] layers;
  private final boolean perHead;
  private final boolean hiddenStates;
  private final boolean logits;

  private ForwardRequest(int[] layers, boolean perHead, boolean hiddenStates, boolean logits) {
    this.layers = layers;
    this.perHead = perHead;
    this.hiddenStates = hiddenStates;
    this.logits = logits;
  }

  /** Logits only: no attention map, no hidden state (evaluation, pure CE). */
  public static ForwardRequest logitsOnly() {
    return LOGITS_ONLY;
  }

  /** Head-averaged maps of the given layers (negative indices count from the end). */
  public static ForwardRequest attentionOf(int... layers) {
    return new ForwardRequest(layers.clone(), false, false, true);
  }

  /** Head-averaged maps of the given layers (negative indices count from the end). */
  public static ForwardRequest attentionOf(Collection<Integer> layers) {
    return attentionOf(layers.stream().mapToInt(Integer::intValue).toArray());
  }

  /** The same request, also returning the raw {@code [B, H, L, L]} maps of the listed layers. */
  public ForwardRequest withPerHeadMaps() {
    return new ForwardRequest(layers, true, hiddenStates, logits);
  }

  /** The same request, also returning every decoder layer's output hidden state. */
  public ForwardRequest withHiddenStates() {
    return new ForwardRequest(layers, perHead, true, logits);
  }

  /**
   * The same request without logits: a teacher's maps are all a distillation step reads from it, so
   * a model may stop after the deepest requested layer (the native family does; a TorchScript model
   * runs whole) and return {@code null} logits.
   */
  public ForwardRequest withoutLogits() {
    if (layers.length == 0) {
      throw new IllegalStateException("a request without logits must name at least one layer");
    }
    return new ForwardRequest(layers, perHead, hiddenStates, false);
  }

  /** Whether logits are requested (true unless {@link #withoutLogits()}). */
  public boolean logits() {
    return logits;
  }

  /** The layers as requested (possibly negative). */
  public int[] layers() {
    return layers.clone();
  }

  /** Whether raw per-head maps are requested. */
  public boolean perHeadMaps() {
    return perHead;
  }

  /** Whether hidden states are requested. */
  public boolean hiddenStates() {
    return hiddenStates;
  }

  /**
   * The requested layers resolved against a model of {@code depth} decoder layers, sorted and
   * without repeats.
   *
   * @throws dev.drivekd.core.attention.LayerIndexException when a layer is out of range
   */
  public SortedSet<Integer> resolvedLayers(int depth) {
    SortedSet<Integer> resolved = new TreeSet<>();
    for (int layer : layers) {
      resolved.add(LayerIndex.resolve(layer, depth));
    }
    return resolved;
  }

  @Override
  public String toString() {
    return "ForwardRequest{layers="
        + Arrays.toString(layers)
        + (perHead ? ", perHead" : "")
        + (hiddenStates ? ", hiddenStates" : "")
        + "}";
  }
}
