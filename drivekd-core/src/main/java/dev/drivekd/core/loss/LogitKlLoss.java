package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;

/**
 * [Table 3 variant, not in the reference] logit distillation ("CE + KL", Hinton et al. 2015):
 * {@code T² · KL(softmax(t/T) ‖ softmax(s/T))} per position, averaged per sample over the positions
 * that next-token CE trains (position {@code p} where label {@code p+1} is supervised).
 */
public final class LogitKlLoss extends DistillationLoss {

  private final double temperature;

  private LogitKlLoss(double temperature) {
    super("logitKl[T=" + temperature + "]");
    this.temperature = temperature;
  }

  /** The KL loss with temperature {@code T > 0}. */
  public static LogitKlLoss withTemperature(double temperature) {
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
    }
    return new LogitKlLoss(temperature);
  }

  /** The temperature {@code T}. */
  public double temperature() {
    return temperature;
  }

  /**
   * Per-sample KL values {@code [B]}.
   *
   * @param student student logits {@code [B, L, V]}
   * @param teacher teacher logits {@code [B, L, V]}, detached here
   * @param layout the batch's token layout (its supervised positions)
   */
  @Override
  public NDArray perSample(NDArray student, NDArray teacher, TokenLayout layout) {
    LossSupport.checkSequence(student, teacher, layout, "logit");
    if (student.getShape().get(2) != teacher.getShape().get(2)) {
      throw new IllegalArgumentException(
          "vocabulary sizes differ (student "
              + student.getShape()
              + ", teacher "
              + teacher.getShape()
              + "): logit KL needs a shared vocabulary");
    }
    return LossSupport.scoped(
        () -> {
          DataType type = LossSupport.computeType(student);
          NDArray logQ = Scalars.div(LossSupport.as(student, type), temperature).logSoftmax(2);
          NDArray logP =
              Scalars.div(LossSupport.as(teacher.stopGradient(), type), temperature).logSoftmax(2);
          NDArray perPosition = logP.exp().mul(logP.sub(logQ)).sum(new int[] {2});
          NDArray positions = layout.predictionMask(student.getManager()).toType(type, false);
          NDArray count = Scalars.maximum(positions.sum(new int[] {1}), 1);
          return Scalars.mul(
              perPosition.mul(positions).sum(new int[] {1}).div(count), temperature * temperature);
        });
  }
}
