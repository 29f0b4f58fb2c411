package dev.drivekd.spark;

import java.io.Serializable;

/**
 * Faults injected into task attempts, for tests and drills of the job's exactly-once commit: the
 * first attempt of one partition dies after writing a number of samples, as an executor lost in the
 * middle of a chunk would. {@link #none()} in production.
 *
 * @param partition the partition whose first attempt dies (-1: none)
 * @param afterSamples samples it writes before dying
 */
public record TaskFaults(int partition, int afterSamples) implements Serializable {

  /** No fault. */
  public static TaskFaults none() {
    return new TaskFaults(-1, 0);
  }

  /** The first attempt of {@code partition} dies after {@code afterSamples} samples. */
  public static TaskFaults firstAttemptDies(int partition, int afterSamples) {
    return new TaskFaults(partition, afterSamples);
  }

  void afterSample(int partitionOfTask, int attempt, int written) {
    if (partitionOfTask == partition && attempt == 0 && written == afterSamples) {
      throw new InjectedFault(
          "injected fault: attempt 0 of partition "
              + partition
              + " dies after "
              + written
              + " samples");
    }
  }

  /** The exception an injected fault throws. */
  static final class InjectedFault extends RuntimeException {
    InjectedFault(String message) {
      super(message);
    }
  }
}
