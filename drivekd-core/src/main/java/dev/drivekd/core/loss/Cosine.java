package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.engine.Scalars;

/** {@code 1 − cos(a, b)} with {@code cos = a·b / max(‖a‖‖b‖, 1e-8)}, differentiable everywhere. */
final class Cosine {

  /** The norm-product floor {@code 1e-8}. */
  static final double EPS = 1e-8;

  private Cosine() {}

  /** {@code 1 − cos} over {@code axes}; {@code max(‖a‖‖b‖, ε) = sqrt(max(‖a‖²‖b‖², ε²))}. */
  static NDArray oneMinus(NDArray a, NDArray b, int[] axes) {
    NDArray dot = a.mul(b).sum(axes);
    // The floor is applied before the square root, so a zero vector has a finite gradient.
    NDArray norms =
        Scalars.maximum(a.square().sum(axes).mul(b.square().sum(axes)), EPS * EPS).sqrt();
    return dot.div(norms).neg().add(1);
  }
}
