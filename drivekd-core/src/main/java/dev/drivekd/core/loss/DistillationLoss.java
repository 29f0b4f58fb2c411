package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.attention.TokenLayout;

/**
 * A differentiable loss between a student tensor and a (detached) teacher tensor of one batch,
 * given its {@link TokenLayout}. Every loss gives per-sample values {@code [B]}; the batch value is
 * their mean, so a right-padded batch gives each sample the value it has alone.
 */
public abstract class DistillationLoss {

  private final String name;

  /** Creates a loss with a descriptive name. */
  protected DistillationLoss(String name) {
    this.name = name;
  }

  /** A short description, e.g. {@code maskedMse[TEXT_TO_VISION]}. */
  public String name() {
    return name;
  }

  /**
   * Per-sample loss values.
   *
   * @param student the student tensor, in the autograd graph
   * @param teacher the teacher tensor; it is detached here
   * @param layout the token layout of the batch
   * @return {@code [B]}, float32 (float64 for float64 inputs)
   */
  public abstract NDArray perSample(NDArray student, NDArray teacher, TokenLayout layout);

  /** The batch loss: the mean of {@link #perSample} over the batch (a scalar). */
  public NDArray evaluate(NDArray student, NDArray teacher, TokenLayout layout) {
    return LossSupport.scoped(() -> perSample(student, teacher, layout).mean());
  }

  @Override
  public String toString() {
    return name;
  }
}
