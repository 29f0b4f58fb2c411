package dev.drivekd.core.train.schedule;

import dev.drivekd.core.train.weighting.LossWeighting;

/**
 * Gradient-accumulation bookkeeping of the reference loop (method.md 4.5, 5 and 9): micro-batches
 * of one sample, a loss scale of {@code 1/A} on every micro-step (also in a short last window,
 * which is therefore under-weighted), and an optimizer step when {@code counter % A == 0} or at the
 * last sample of the epoch; the counter restarts every epoch.
 *
 * <p>At a step boundary the order is: optimizer step, zero the gradients, {@link
 * #completeOptimizerStep()} (the reference's {@code optimizer_step += 1} and {@code
 * scheduler.step()}), then {@link LossWeighting#update()}. The learning rate of the next step is
 * {@code schedule.rate(optimizerSteps())}.
 */
public final class AccumulationSchedule {

  /**
   * One micro-step's instructions.
   *
   * @param epoch the 0-based epoch
   * @param indexInEpoch the 0-based sample index within the epoch
   * @param positionInWindow the 1-based position of this micro-step in its window
   * @param lossScale the factor {@code s = 1/A} each task loss is multiplied by before backward
   * @param stepAfter whether the optimizer steps after this micro-step
   */
  public record MicroStep(
      long epoch, int indexInEpoch, int positionInWindow, double lossScale, boolean stepAfter) {}

  /**
   * Checkpoint state.
   *
   * @param accumulation {@code A}
   * @param epoch the current (or, between epochs, the last started) 0-based epoch; -1 before any
   * @param epochSize samples in the current epoch
   * @param positionInEpoch micro-steps taken in the current epoch (the reference's counter)
   * @param optimizerSteps optimizer steps completed (= scheduler steps)
   * @param microSteps micro-steps taken in the whole run
   * @param stepPending whether the last micro-step was a boundary not yet completed
   */
  public record State(
      int accumulation,
      long epoch,
      int epochSize,
      int positionInEpoch,
      long optimizerSteps,
      long microSteps,
      boolean stepPending) {}

  private final int accumulation;
  private long epoch = -1;
  private int epochSize;
  private int positionInEpoch;
  private int positionInWindow;
  private long optimizerSteps;
  private long microSteps;
  private boolean stepPending;

  /** Accumulation over {@code accumulation} micro-steps ({@code --grad-accum-steps}, 4). */
  public AccumulationSchedule(int accumulation) {
    if (accumulation <= 0) {
      throw new IllegalArgumentException("accumulation steps must be > 0, got " + accumulation);
    }
    this.accumulation = accumulation;
  }

  /** Starts an epoch of {@code samples} micro-steps; the window counter restarts at 0. */
  public void beginEpoch(int samples) {
    if (samples < 0) {
      throw new IllegalArgumentException("epoch size must be >= 0, got " + samples);
    }
    requireNoPendingStep("begin an epoch");
    if (epoch >= 0 && positionInEpoch < epochSize) {
      throw new IllegalStateException(
          "epoch "
              + epoch
              + " ended after "
              + positionInEpoch
              + " of "
              + epochSize
              + " micro-steps");
    }
    epoch++;
    epochSize = samples;
    positionInEpoch = 0;
    positionInWindow = 0;
  }

  /** Advances to the next sample of the epoch and says how to train on it. */
  public MicroStep nextMicroStep() {
    if (epoch < 0) {
      throw new IllegalStateException("call beginEpoch before the first micro-step");
    }
    requireNoPendingStep("take another micro-step");
    if (positionInEpoch >= epochSize) {
      throw new IllegalStateException(
          "epoch " + epoch + " has only " + epochSize + " samples; call beginEpoch");
    }
    int index = positionInEpoch;
    positionInEpoch++;
    positionInWindow++;
    microSteps++;
    boolean step = positionInEpoch % accumulation == 0 || positionInEpoch == epochSize;
    stepPending = step;
    return new MicroStep(epoch, index, positionInWindow, lossScale(), step);
  }

  /**
   * Records that the optimizer stepped after a boundary micro-step: {@code optimizerSteps} and the
   * scheduler count advance and a new window starts.
   */
  public void completeOptimizerStep() {
    if (!stepPending) {
      throw new IllegalStateException(
          "no optimizer step is due: the last micro-step was not a window boundary");
    }
    stepPending = false;
    optimizerSteps++;
    positionInWindow = 0;
  }

  /** The loss scale {@code 1/A}. */
  public double lossScale() {
    return 1.0 / accumulation;
  }

  /** {@code A}. */
  public int accumulation() {
    return accumulation;
  }

  /** Optimizer steps completed; also the learning-rate scheduler's step count {@code n}. */
  public long optimizerSteps() {
    return optimizerSteps;
  }

  /** Micro-steps taken in the whole run. */
  public long microSteps() {
    return microSteps;
  }

  /** The current 0-based epoch (-1 before the first). */
  public long epoch() {
    return epoch;
  }

  /** Optimizer steps one epoch of {@code samples} takes: {@code ceil(samples / A)}. */
  public long stepsPerEpoch(long samples) {
    return LrSchedule.totalOptimizerSteps(1, samples, accumulation);
  }

  /** The state to store in a checkpoint. */
  public State exportState() {
    return new State(
        accumulation, epoch, epochSize, positionInEpoch, optimizerSteps, microSteps, stepPending);
  }

  /** Restores a schedule from checkpoint state. */
  public static AccumulationSchedule fromState(State state) {
    AccumulationSchedule s = new AccumulationSchedule(state.accumulation());
    if (state.epoch() < -1
        || state.epochSize() < 0
        || state.positionInEpoch() < 0
        || state.positionInEpoch() > state.epochSize()
        || state.optimizerSteps() < 0
        || state.microSteps() < state.positionInEpoch()) {
      throw new IllegalArgumentException("inconsistent accumulation state: " + state);
    }
    s.epoch = state.epoch();
    s.epochSize = state.epochSize();
    s.positionInEpoch = state.positionInEpoch();
    s.optimizerSteps = state.optimizerSteps();
    s.microSteps = state.microSteps();
    s.stepPending = state.stepPending();
    int inWindow = state.positionInEpoch() % state.accumulation();
    s.positionInWindow = state.stepPending() && inWindow == 0 ? state.accumulation() : inWindow;
    return s;
  }

  private void requireNoPendingStep(String action) {
    if (stepPending) {
      throw new IllegalStateException(
          "cannot " + action + ": the optimizer step after the last micro-step is not completed");
    }
  }

  @Override
  public String toString() {
    return "AccumulationSchedule(A="
        + accumulation
        + ", epoch="
        + epoch
        + ", "
        + positionInEpoch
        + "/"
        + epochSize
        + ", optimizerSteps="
        + optimizerSteps
        + ")";
  }
}
