package dev.drivekd.core.engine;

import ai.djl.ndarray.NDArray;

/**
 * Arrays made from Java data that libtorch owns. On CPU, DJL's PyTorch engine wraps a direct buffer
 * holding the data ({@code from_blob}), so the tensor's memory lives only as long as the Java
 * wrapper: when the wrapper is closed while an autograd graph still holds the tensor (a mask or
 * label array saved for backward), the buffer can be collected and the backward pass reads freed
 * memory (measured here: sporadic NaN gradients). {@link #owned} copies such an array into memory
 * libtorch allocates and releases the wrapper.
 */
public final class HostData {

  private HostData() {}

  /** A libtorch-owned copy of {@code created}, which is closed. */
  public static NDArray owned(NDArray created) {
    NDArray copy = created.duplicate();
    created.close();
    return copy;
  }
}
