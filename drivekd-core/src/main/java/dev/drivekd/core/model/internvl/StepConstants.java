package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.HashMap;
import java.util.Map;

/**
 * Arrays every forward pass of a model needs and none changes, per sequence length: the rotary
 * tables of positions {@code 0 .. L-1} and the causal mask of an unpadded batch. Built once per
 * length with the operations a forward used to run each time (so the values are the same bit for
 * bit), kept in a sub-manager of the model's manager and freed with the model. At most {@link
 * #MAX_LENGTHS} lengths are kept; past that all are dropped and rebuilt on demand. Dropped arrays
 * are freed one start-over later, not at once: a forward pass that fetched its rotary tables just
 * before its mask started the cache over (decoding without a cache visits a new length per token)
 * still holds valid arrays. On the tiny models this removes about 15 of a step's small operations.
 */
final class StepConstants {

  /** Distinct lengths kept before the cache starts over. */
  static final int MAX_LENGTHS = 64;

  private final NDManager owner;
  private final RotaryEmbedding rotary;
  private NDManager arrays;
  private NDManager retired;
  private final Map<Integer, RotaryEmbedding.Tables> rope = new HashMap<>();
  private final Map<Integer, NDArray> causal = new HashMap<>();

  StepConstants(NDManager owner, RotaryEmbedding rotary) {
    this.owner = owner;
    this.rotary = rotary;
  }

  /** The rotary tables of positions {@code 0 .. length-1}. */
  synchronized RotaryEmbedding.Tables rope(int length) {
    RotaryEmbedding.Tables t = rope.get(length);
    if (t == null) {
      try (NDManager scratch = manager().newSubManager()) {
        RotaryEmbedding.Tables made = rotary.tables(scratch, 0, length);
        t = new RotaryEmbedding.Tables(own(made.cos()), own(made.sin()));
      }
      rope.put(length, t);
    }
    return t;
  }

  /** The causal mask {@code [1, 1, L, L]} of an unpadded batch of length {@code length}. */
  synchronized NDArray causal(int length) {
    NDArray m = causal.get(length);
    if (m == null) {
      try (NDManager scratch = manager().newSubManager()) {
        m = own(AttentionMasks.causal(scratch, length));
      }
      causal.put(length, m);
    }
    return m;
  }

  /** Moves an array out of its scratch manager (and any open scope) into the kept ones. */
  private NDArray own(NDArray array) {
    NDScope.unregister(array);
    array.attach(arrays);
    return array;
  }

  private NDManager manager() {
    if (arrays == null || rope.size() >= MAX_LENGTHS || causal.size() >= MAX_LENGTHS) {
      if (retired != null) {
        retired.close();
      }
      retired = arrays;
      rope.clear();
      causal.clear();
      arrays = owner.newSubManager();
    }
    return arrays;
  }
}
