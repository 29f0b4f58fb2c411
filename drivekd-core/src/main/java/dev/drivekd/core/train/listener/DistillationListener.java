package dev.drivekd.core.train.listener;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Callbacks of a distillation run, in this order: {@link #onTrainingBegin} once, {@link
 * #onMicroStep} after every micro-step, {@link #onStep} after every optimizer step (after the
 * micro-step that closed its window), {@link #onEpochEnd} after each epoch, {@link #onTrainingEnd}
 * once (also when training stops early). Every method has an empty default. A listener that throws
 * stops the run; listeners are called on the training thread and should return quickly.
 *
 * <p>(Not DJL's {@code ai.djl.training.listener.DistillationListener}: drivekd's trainer is not a
 * DJL {@code Trainer}, and its events carry the distillation's own figures.)
 */
public interface DistillationListener {

  /** A listener of micro-steps only, e.g. {@code forMicroSteps(r -> log(r.losses()))}. */
  static DistillationListener forMicroSteps(Consumer<MicroStepReport> callback) {
    Objects.requireNonNull(callback);
    return new DistillationListener() {
      @Override
      public void onMicroStep(MicroStepReport report) {
        callback.accept(report);
      }
    };
  }

  /** Training starts (or resumes: {@link TrainingBegin#start()} is then not zero). */
  default void onTrainingBegin(TrainingBegin begin) {}

  /** A micro-step (one sample, or one micro-batch) trained, or was skipped. */
  default void onMicroStep(MicroStepReport report) {}

  /** An optimizer step completed (or was skipped; see {@link StepReport#skippedUpdates()}). */
  default void onStep(StepReport report) {}

  /** An epoch completed. */
  default void onEpochEnd(EpochReport report) {}

  /** Training ended, completed or not. */
  default void onTrainingEnd(TrainingEnd end) {}
}
