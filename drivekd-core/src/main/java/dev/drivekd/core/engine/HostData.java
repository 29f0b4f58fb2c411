package dev.drivekd.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Arrays made from Java data that libtorch owns. On CPU, DJL's PyTorch engine wraps a direct buffer
 * holding the data ({@code from_blob}), so the tensor's memory lives only as long as the Java
 * wrapper: when the wrapper is closed while an autograd graph still holds the tensor (a mask or
 * label array saved for backward), the buffer can be collected and the backward pass reads freed
 * memory (measured here: sporadic NaN gradients). {@link #owned} copies such an array into memory
 * libtorch allocates and releases the wrapper.
 *
 * <p>{@link #floats} goes further for data made per sample (cached teacher maps): it stages the
 * values in one reusable direct buffer per thread instead of a fresh one per array, since fresh
 * direct buffers are only returned to the system when the garbage collector runs.
 */
public final class HostData {

  private static final ThreadLocal<ByteBuffer> STAGING =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));

  private HostData() {}

  /** A libtorch-owned copy of {@code created}, which is closed. */
  public static NDArray owned(NDArray created) {
    NDArray copy = created.duplicate();
    created.close();
    return copy;
  }

  /** A libtorch-owned float32 array of {@code values} shaped {@code shape}. */
  public static NDArray floats(NDManager manager, float[] values, Shape shape) {
    if (shape.size() != values.length) {
      throw new IllegalArgumentException(values.length + " values for shape " + shape);
    }
    ByteBuffer staging = STAGING.get();
    int bytes = values.length * Float.BYTES;
    if (staging.capacity() < bytes) {
      staging = ByteBuffer.allocateDirect(Math.max(bytes, staging.capacity() * 2));
      STAGING.set(staging);
    }
    ByteBuffer view = staging.duplicate().order(ByteOrder.nativeOrder());
    view.clear().limit(bytes);
    view.asFloatBuffer().put(values);
    return owned(manager.create(view, shape, DataType.FLOAT32));
  }
}
