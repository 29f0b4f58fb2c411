package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

/**
 * Keys and values of every decoder layer for incremental decoding, after the rotary embedding and
 * before the grouped-query repeat ({@code [B, KV, T, headDim]}). The cache owns its arrays: they
 * are outside every scope, replaced (and the old ones closed) on each append, and closed by {@link
 * #close()}.
 */
final class KvCache implements AutoCloseable {

  private final NDArray[] keys;
  private final NDArray[] values;

  KvCache(int depth) {
    keys = new NDArray[depth];
    values = new NDArray[depth];
  }

  /** Tokens cached so far (0 before the first append). */
  long length() {
    return keys[0] == null ? 0 : keys[0].getShape().get(2);
  }

  /**
   * Appends this step's keys and values of {@code layer} and returns the full ones ({@code [B, KV,
   * T_total, headDim]}); the returned arrays stay owned by the cache.
   */
  NDArray[] append(int layer, NDArray key, NDArray value) {
    NDArray fullKey = keys[layer] == null ? key : NDArrays.concat(new NDList(keys[layer], key), 2);
    NDArray fullValue =
        values[layer] == null ? value : NDArrays.concat(new NDList(values[layer], value), 2);
    InternVlBlock.keep(fullKey, fullValue);
    if (keys[layer] != null) {
      keys[layer].close();
      values[layer].close();
    }
    keys[layer] = fullKey;
    values[layer] = fullValue;
    return new NDArray[] {fullKey, fullValue};
  }

  @Override
  public void close() {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != null) {
        keys[i].close();
        values[i].close();
        keys[i] = null;
        values[i] = null;
      }
    }
  }
}
