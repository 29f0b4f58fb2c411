package dev.drivekd.core.train.checkpoint;

/**
 * Where a run stands: what a resumed run needs to continue at the next sample.
 *
 * @param epoch the 0-based epoch in progress (or just finished)
 * @param microStep micro-steps completed in the whole run
 * @param optimizerStep optimizer steps completed in the whole run (names the checkpoint folder)
 * @param sampleInEpoch samples of this epoch already trained: the position, in the epoch's order,
 *     of the next sample
 */
public record StepCounters(long epoch, long microStep, long optimizerStep, long sampleInEpoch) {

  /** Checks that every counter is non-negative. */
  public StepCounters {
    if (epoch < 0 || microStep < 0 || optimizerStep < 0 || sampleInEpoch < 0) {
      throw new IllegalArgumentException(
          "step counters must be >= 0: epoch "
              + epoch
              + ", microStep "
              + microStep
              + ", optimizerStep "
              + optimizerStep
              + ", sampleInEpoch "
              + sampleInEpoch);
    }
  }
}
