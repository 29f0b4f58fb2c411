package dev.drivekd.core.train.listener;

/**
 * The end of a run.
 *
 * @param epoch the last epoch trained (0-based)
 * @param optimizerStep optimizer steps completed in the run
 * @param samples samples trained in the run
 * @param seconds wall-clock seconds since {@link DistillationListener#onTrainingBegin}
 * @param completed whether every epoch ran; false when training stopped early or failed
 */
public record TrainingEnd(
    long epoch, long optimizerStep, long samples, double seconds, boolean completed) {}
