package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Additive attention masks, built on the device with a handful of operations: {@code 0} where a
 * query may attend and the float32 minimum where it may not (as Hugging Face's eager path), so the
 * softmax gives exactly 0 on masked keys.
 */
final class AttentionMasks {

  /** The value added to masked scores ({@code torch.finfo(float32).min}). */
  static final float MASKED = -Float.MAX_VALUE;

  private AttentionMasks() {}

  /**
   * Causal mask {@code [1, 1, L, L]}: key {@code j} visible to query {@code i} iff {@code j <= i}.
   */
  static NDArray causal(NDManager manager, int length) {
    NDArray positions = manager.arange(0, length, 1, DataType.INT32);
    NDArray visible = positions.reshape(1, length).lte(positions.reshape(length, 1));
    return additive(visible).reshape(1, 1, length, length);
  }

  /**
   * Causal and key-padding mask {@code [B, 1, L, L]} of a right-padded batch: key {@code j} visible
   * to query {@code i} of sample {@code b} iff {@code j <= i} and {@code j < lengths[b]}. Without
   * padding it is the causal mask {@code [1, 1, L, L]}.
   */
  static NDArray causalPadded(NDManager manager, int[] lengths, int length) {
    if (!isPadded(lengths, length)) {
      return causal(manager, length);
    }
    NDArray positions = manager.arange(0, length, 1, DataType.INT32);
    NDArray causal = positions.reshape(1, 1, length).lte(positions.reshape(1, length, 1));
    NDArray validKey =
        positions
            .reshape(1, 1, length)
            .lt(manager.create(lengths, new Shape(lengths.length, 1, 1)));
    return additive(causal.logicalAnd(validKey)).reshape(lengths.length, 1, length, length);
  }

  /** Whether any sample of the batch is shorter than {@code length}. */
  static boolean isPadded(int[] lengths, int length) {
    for (int l : lengths) {
      if (l < length) {
        return true;
      }
    }
    return false;
  }

  /**
   * Causal mask {@code [1, 1, T, start+T]} of {@code T} new queries at positions {@code start ..
   * start+T-1} over all keys {@code 0 .. start+T-1} (incremental decoding with a cache).
   */
  static NDArray causalFrom(NDManager manager, int start, int count) {
    NDArray keys = manager.arange(0, start + count, 1, DataType.INT32);
    NDArray queries = manager.arange(start, start + count, 1, DataType.INT32);
    NDArray visible = keys.reshape(1, start + count).lte(queries.reshape(count, 1));
    return additive(visible).reshape(1, 1, count, start + count);
  }

  private static NDArray additive(NDArray visible) {
    // (visible - 1) * MAX: +0 where visible, the float32 minimum where masked
    return visible.toType(DataType.FLOAT32, false).sub(1f).mul(Float.MAX_VALUE); // no graph
  }
}
