package dev.drivekd.core.train.listener;

/**
 * Callbacks of a training run, in this order: {@link #onTrainingBegin} once, {@link #onStep} after
 * every optimizer step, {@link #onEpochEnd} after each epoch, {@link #onTrainingEnd} once (also
 * when training stops early). Every method has an empty default. A listener that throws stops the
 * run; listeners are called on the training thread and should return quickly.
 */
public interface TrainingListener {

  /** Training starts (or resumes: {@link TrainingBegin#start()} is then not zero). */
  default void onTrainingBegin(TrainingBegin begin) {}

  /** An optimizer step completed (or was skipped; see {@link StepReport#skippedUpdates()}). */
  default void onStep(StepReport report) {}

  /** An epoch completed. */
  default void onEpochEnd(EpochReport report) {}

  /** Training ended, completed or not. */
  default void onTrainingEnd(TrainingEnd end) {}
}
