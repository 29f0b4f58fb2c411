package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;
import java.util.function.UnaryOperator;

/**
 * [Table 3 variant, not in the reference] hidden-state distillation ("CE + Hidden (1 / mid /
 * penultimate)") between student and teacher hidden states {@code [B, L, D]}, per sample over its
 * valid tokens {@code V_b}: MSE {@code Σ_{t∈V_b} ‖s_t − h_t‖² / (|V_b|·D)}, or cosine {@code
 * (1/|V_b|) Σ_{t∈V_b} (1 − cos(s_t, h_t))} with {@code cos = a·b / max(‖a‖‖b‖, 1e-8)}. The hidden
 * sizes must match, or a projection of the student states must be given.
 */
public final class HiddenStateLoss extends DistillationLoss {

  private final boolean cosine;
  private final UnaryOperator<NDArray> projection;

  private HiddenStateLoss(boolean cosine, UnaryOperator<NDArray> projection) {
    super((cosine ? "hiddenCosine" : "hiddenMse") + (projection == null ? "" : "[projected]"));
    this.cosine = cosine;
    this.projection = projection;
  }

  /** Hidden-state MSE over valid tokens. */
  public static HiddenStateLoss mse() {
    return new HiddenStateLoss(false, null);
  }

  /** Hidden-state cosine loss over valid tokens. */
  public static HiddenStateLoss cosine() {
    return new HiddenStateLoss(true, null);
  }

  /**
   * The same loss with {@code projection} applied to the student states first ({@code [B, L, D_s]
   * -> [B, L, D_t]}, e.g. a trainable linear block's forward).
   */
  public HiddenStateLoss withProjection(UnaryOperator<NDArray> projection) {
    if (projection == null) {
      throw new IllegalArgumentException("projection must not be null");
    }
    return new HiddenStateLoss(cosine, projection);
  }

  @Override
  public NDArray perSample(NDArray student, NDArray teacher, TokenLayout layout) {
    LossSupport.checkSequence(student, teacher, layout, "hidden-state");
    return LossSupport.scoped(
        () -> {
          NDArray projected = projection == null ? student : projection.apply(student);
          long teacherSize = teacher.getShape().get(2);
          if (projected.getShape().dimension() != 3
              || projected.getShape().get(0) != teacher.getShape().get(0)
              || projected.getShape().get(1) != teacher.getShape().get(1)
              || projected.getShape().get(2) != teacherSize) {
            throw new IllegalArgumentException(
                "hidden sizes differ (student "
                    + projected.getShape()
                    + ", teacher "
                    + teacher.getShape()
                    + "): a projection of the student states is needed"
                    + " (HiddenStateLoss.withProjection)");
          }
          DataType type = LossSupport.computeType(projected);
          NDArray s = LossSupport.as(projected, type);
          NDArray t = LossSupport.as(teacher.stopGradient(), type);
          NDArray valid = layout.validMask(student.getManager()).toType(type, false);
          NDArray count = Scalars.maximum(valid.sum(new int[] {1}), 1);
          if (cosine) {
            NDArray perToken = Cosine.oneMinus(s, t, new int[] {2});
            return perToken.mul(valid).sum(new int[] {1}).div(count);
          }
          NDArray perToken = s.sub(t).square().sum(new int[] {2});
          return perToken.mul(valid).sum(new int[] {1}).div(Scalars.mul(count, teacherSize));
        });
  }
}
