package dev.drivekd.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant that is safe inside an autograd graph. DJL's {@code x.mul(2f)} wraps
 * the constant in a tensor over a Java direct buffer and closes it right after the operation; when
 * the operation saves the constant for backward ({@code mul}, {@code div}, {@code maximum}), the
 * backward pass later reads memory the garbage collector may have freed, and gradients turn to
 * garbage or NaN at random (measured in drivekd's trainer tests, with and without explicit GC).
 * These methods make the constant with libtorch's own allocation instead.
 */
public final class Scalars {

  private Scalars() {}

  /** {@code x * value}. */
  public static NDArray mul(NDArray x, double value) {
    try (NDArray c = constant(x, value)) {
      return x.mul(c);
    }
  }

  /** {@code x / value}. */
  public static NDArray div(NDArray x, double value) {
    try (NDArray c = constant(x, value)) {
      return x.div(c);
    }
  }

  /** {@code max(x, value)} element-wise. */
  public static NDArray maximum(NDArray x, double value) {
    try (NDArray c = constant(x, value)) {
      return x.maximum(c);
    }
  }

  /** A 0-d tensor of {@code x}'s type on {@code x}'s manager, allocated by libtorch. */
  public static NDArray constant(NDArray x, double value) {
    return x.getManager().full(new Shape(), (float) value, x.getDataType());
  }
}
