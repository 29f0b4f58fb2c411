package dev.drivekd.core.train;

/**
 * A run stopped because it could not make progress: too many micro-steps in a row were skipped for
 * a non-finite loss or gradient ({@link DistillationTrainer.Builder#optMaxConsecutiveSkips}). No
 * bad update reached the weights; the last checkpoint is the last good one.
 */
public final class TrainingStoppedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** A stop with its reason, naming the last skipped records. */
  public TrainingStoppedException(String message) {
    super(message);
  }
}
