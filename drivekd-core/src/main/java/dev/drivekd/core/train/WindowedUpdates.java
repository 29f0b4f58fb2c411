package dev.drivekd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.core.train.listener.StepReport;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.schedule.AccumulationSchedule;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micro-steps grouped into accumulation windows (method.md 5, 9): each micro-step's combined
 * gradient, scaled by {@code 1/A}, enters the {@link GradientWindow}; the window's last micro-step
 * is followed by the AdamW update of every parameter the window reached, at the learning rate of
 * this optimizer step, then by the scheduler's and the dynamic loss weights' step.
 *
 * <p>The learning rate comes from the accumulation schedule's step count, which moves on after a
 * window whose every micro-step was skipped (as PyTorch's scheduler steps after an optimizer step
 * that found no gradient); the rate a micro-step reports is the rate its window's update uses.
 */
final class WindowedUpdates {

  private static final Logger LOG = LoggerFactory.getLogger(WindowedUpdates.class);

  private final DistillationStep step;
  private final NDManager manager;
  private final PyTorchAdamW optimizer;
  private final LrSchedule schedule;
  private final LossWeighting weighting;
  private final GradientWindow window;
  private final WindowStats stats = new WindowStats();
  private final PhaseClock clock;
  private final int maxConsecutiveSkips;
  private int consecutiveSkips;
  private AccumulationSchedule accumulation;
  private long skippedUpdates;

  WindowedUpdates(
      DistillationStep step,
      NDManager manager,
      List<Parameter> parameters,
      PyTorchAdamW optimizer,
      LrSchedule schedule,
      LossWeighting weighting,
      int accumulation,
      int maxConsecutiveSkips,
      PhaseClock clock) {
    this.step = step;
    this.manager = manager;
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.weighting = weighting;
    this.window = new GradientWindow(manager, parameters);
    this.accumulation = new AccumulationSchedule(accumulation);
    this.maxConsecutiveSkips = maxConsecutiveSkips;
    this.clock = clock;
  }

  /** Starts an epoch of {@code microSteps} micro-steps. */
  void beginEpoch(int microSteps) {
    accumulation.beginEpoch(microSteps);
  }

  /** Trains on one micro-batch (a test's shortcut for prepare, then {@link #train(Prepared)}). */
  MicroStepReport train(List<Integer> sampleIndices, List<DrivingSample> samples) {
    return train(step.prepare(manager.newSubManager(), sampleIndices, samples));
  }

  /** Trains on prepared inputs (closed here) and updates the weights at a window's end. */
  MicroStepReport train(DistillationStep.Prepared prepared) {
    List<DrivingSample> samples = prepared.samples();
    AccumulationSchedule.MicroStep micro = accumulation.nextMicroStep();
    double rate = schedule.rateAtOptimizerStep(accumulation.optimizerSteps() + 1);
    DistillationStep.Outcome outcome;
    try (prepared;
        NDManager scratch = manager.newSubManager()) {
      outcome = step.run(scratch, prepared, micro.lossScale(), window);
    }
    if (outcome.skipped() != null) {
      skippedUpdates++;
      consecutiveSkips++;
      List<Integer> records = samples.stream().map(DrivingSample::recordIndex).toList();
      LOG.warn(
          "records {} of {}: update skipped, {}",
          records,
          samples.get(0).sourceFile(),
          outcome.skipped());
      if (maxConsecutiveSkips > 0 && consecutiveSkips >= maxConsecutiveSkips) {
        throw new TrainingStoppedException(
            "training stopped: the last "
                + consecutiveSkips
                + " micro-steps were all skipped (non-finite loss or gradient); the last, records "
                + records
                + " of "
                + samples.get(0).sourceFile()
                + ": "
                + outcome.skipped()
                + ". The weights are those of the last good update; check the data, the teachers"
                + " and the learning rate (optMaxConsecutiveSkips sets the limit)");
      }
    } else {
      consecutiveSkips = 0;
    }
    stats.add(outcome, weighting);
    if (micro.stepAfter()) {
      update(rate);
    }
    return new MicroStepReport(
        micro.epoch(),
        micro.indexInEpoch(),
        prepared.indices(),
        samples.stream().map(DrivingSample::capability).toList(),
        outcome.losses(),
        outcome.taskWeights(),
        outcome.norms(),
        outcome.projection(),
        outcome.reuse(),
        outcome.skipped(),
        micro.stepAfter(),
        rate);
  }

  /** The optimizer step at a window's end; a window with nothing in it updates no weight. */
  private void update(double rate) {
    if (window.contributions() == 0) {
      LOG.warn("every sample of this window was skipped; no optimizer step");
      window.clear();
    } else {
      clock.start();
      window.applyAndClear(optimizer, rate);
      clock.lap(StepPhase.OPTIMIZER);
    }
    accumulation.completeOptimizerStep();
    weighting.update();
  }

  /** What the window that {@code last} closed did, for the listeners; starts the next window's. */
  StepReport closeWindowReport(MicroStepReport last) {
    StepReport report = stats.toReport(last, accumulation, skippedUpdates, weighting);
    stats.reset();
    return report;
  }

  /** Updates skipped so far because a loss or gradient was not finite. */
  long skippedUpdates() {
    return skippedUpdates;
  }

  /** Optimizer steps completed (skipped windows included: the schedule moved on). */
  long optimizerSteps() {
    return accumulation.optimizerSteps();
  }

  /** Micro-steps taken in the run. */
  long microSteps() {
    return accumulation.microSteps();
  }

  /** The last epoch begun, -1 before the first. */
  long epoch() {
    return accumulation.epoch();
  }

  /** Micro-steps per optimizer step. */
  int accumulation() {
    return accumulation.accumulation();
  }

  AccumulationSchedule.State exportAccumulation() {
    return accumulation.exportState();
  }

  void restoreAccumulation(AccumulationSchedule.State state) {
    accumulation = AccumulationSchedule.fromState(state);
  }

  /** The window's gradient of parameter {@code param} so far (tests). */
  NDArray windowGradient(int param) {
    return window.gradient(param);
  }
}
