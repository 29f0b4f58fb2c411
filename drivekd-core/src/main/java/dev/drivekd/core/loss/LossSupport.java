package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;
import java.util.function.Supplier;

/** Shared precision, scoping and shape checks of the drivekd losses. */
final class LossSupport {

  private LossSupport() {}

  /** Losses run in float64 for float64 inputs and in float32 for every other float type. */
  static DataType computeType(NDArray input) {
    return input.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
  }

  /** {@code input} in {@code type}; a differentiable cast when the type differs. */
  static NDArray as(NDArray input, DataType type) {
    return input.getDataType() == type ? input : input.toType(type, false);
  }

  /**
   * Runs {@code body} in its own {@link NDScope}, so its intermediates are freed at once (the
   * autograd graph keeps what backward needs), and hands the result to the enclosing scope.
   */
  static NDArray scoped(Supplier<NDArray> body) {
    NDArray result;
    try (NDScope scope = new NDScope()) {
      result = body.get();
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /** {@code 0 * Σ map} per sample: a zero that stays in the graph of {@code map} ({@code [B]}). */
  static NDArray attachedZero(NDArray map) {
    int dims = map.getShape().dimension();
    int[] axes = new int[dims - 1];
    for (int i = 1; i < dims; i++) {
      axes[i - 1] = i;
    }
    NDArray sum = map.sum(axes);
    return Scalars.mul(sum, 0);
  }

  /** Checks that student and teacher maps are {@code [B, L, L]} and fit {@code layout}. */
  static void checkMaps(NDArray student, NDArray teacher, TokenLayout layout) {
    Shape expected = new Shape(layout.batchSize(), layout.paddedLength(), layout.paddedLength());
    checkSequence(student, teacher, layout, "attention map");
    if (!student.getShape().equals(expected) || !teacher.getShape().equals(expected)) {
      throw new IllegalArgumentException(
          "head-averaged attention maps must be "
              + expected
              + " for this layout; student "
              + student.getShape()
              + ", teacher "
              + teacher.getShape());
    }
  }

  /** Checks the {@code [B, L, ...]} leading dimensions of student and teacher tensors. */
  static void checkSequence(NDArray student, NDArray teacher, TokenLayout layout, String what) {
    Shape s = student.getShape();
    Shape t = teacher.getShape();
    if (s.dimension() != 3 || t.dimension() != 3) {
      throw new IllegalArgumentException(
          what + " tensors must be 3-dimensional; student " + s + ", teacher " + t);
    }
    if (s.get(1) != t.get(1)) {
      throw new IllegalArgumentException(
          "student and teacher sequence lengths differ (student L="
              + s.get(1)
              + ", teacher L="
              + t.get(1)
              + "): the same tokenizer and tokens-per-image are required");
    }
    if (s.get(0) != layout.batchSize()
        || t.get(0) != layout.batchSize()
        || s.get(1) != layout.paddedLength()) {
      throw new IllegalArgumentException(
          what
              + " tensors "
              + s
              + " / "
              + t
              + " do not fit the token layout (B="
              + layout.batchSize()
              + ", L="
              + layout.paddedLength()
              + ")");
    }
  }
}
