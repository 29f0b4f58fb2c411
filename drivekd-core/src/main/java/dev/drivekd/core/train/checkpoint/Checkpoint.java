package dev.drivekd.core.train.checkpoint;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.train.optimizer.AdamWState;
import dev.drivekd.core.train.schedule.AccumulationSchedule;
import dev.drivekd.core.train.weighting.LossWeightingState;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything a run needs to continue exactly where it stopped: step counters, the student's weights
 * by parameter name, the optimizer's state, the loss weights' state, the accumulation schedule, the
 * random generators and the run's provenance. Counters, weights and provenance are required; the
 * rest is optional (a run without dynamic weights still has a loss-weighting state, but a test or a
 * tool may store less).
 *
 * <p>A loaded checkpoint's arrays live in the manager passed to {@link CheckpointStore#load}; the
 * caller closes them (or the manager) after copying them into the model and optimizer.
 */
public final class Checkpoint {

  private final StepCounters counters;
  private final Map<String, NDArray> studentWeights;
  private final AdamWState optimizer;
  private final LossWeightingState lossWeighting;
  private final AccumulationSchedule.State accumulation;
  private final RandomStates randomStates;
  private final RunProvenance provenance;

  private Checkpoint(Builder b) {
    if (b.counters == null || b.studentWeights == null || b.provenance == null) {
      throw new IllegalArgumentException(
          "a checkpoint needs step counters, student weights and provenance");
    }
    this.counters = b.counters;
    this.studentWeights = Collections.unmodifiableMap(new LinkedHashMap<>(b.studentWeights));
    this.optimizer = b.optimizer;
    this.lossWeighting = b.lossWeighting;
    this.accumulation = b.accumulation;
    this.randomStates = b.randomStates;
    this.provenance = b.provenance;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Where the run stands. */
  public StepCounters counters() {
    return counters;
  }

  /** The student's weights by parameter name, in the order they were given. */
  public Map<String, NDArray> studentWeights() {
    return studentWeights;
  }

  /** The student optimizer's state, when stored. */
  public Optional<AdamWState> optimizer() {
    return Optional.ofNullable(optimizer);
  }

  /** The loss weights' state, when stored. */
  public Optional<LossWeightingState> lossWeighting() {
    return Optional.ofNullable(lossWeighting);
  }

  /** The accumulation schedule's state, when stored. */
  public Optional<AccumulationSchedule.State> accumulation() {
    return Optional.ofNullable(accumulation);
  }

  /** The random generators' states (possibly empty). */
  public RandomStates randomStates() {
    return randomStates;
  }

  /** What made the run. */
  public RunProvenance provenance() {
    return provenance;
  }

  /** Closes every array this checkpoint holds (those of a loaded checkpoint belong to it). */
  public void closeArrays() {
    studentWeights.values().forEach(NDArray::close);
    if (optimizer != null) {
      for (AdamWState.ParameterState p : optimizer.parameters().values()) {
        p.expAvg().close();
        p.expAvgSq().close();
      }
    }
  }

  /** Builder: {@code set} for required parts, {@code opt} for optional ones. */
  public static final class Builder {
    private StepCounters counters;
    private Map<String, NDArray> studentWeights;
    private AdamWState optimizer;
    private LossWeightingState lossWeighting;
    private AccumulationSchedule.State accumulation;
    private RandomStates randomStates = RandomStates.empty();
    private RunProvenance provenance;

    private Builder() {}

    /** Where the run stands (required). */
    public Builder setCounters(StepCounters counters) {
      this.counters = counters;
      return this;
    }

    /** The student's weights by parameter name (required; see {@link StudentWeights}). */
    public Builder setStudentWeights(Map<String, NDArray> weights) {
      this.studentWeights = weights;
      return this;
    }

    /** What made the run (required). */
    public Builder setProvenance(RunProvenance provenance) {
      this.provenance = provenance;
      return this;
    }

    /** The optimizer's state ({@code PyTorchAdamW.exportState}). */
    public Builder optOptimizer(AdamWState state) {
      this.optimizer = state;
      return this;
    }

    /** The loss weights' state ({@code LossWeighting.exportState}). */
    public Builder optLossWeighting(LossWeightingState state) {
      this.lossWeighting = state;
      return this;
    }

    /** The accumulation schedule's state ({@code AccumulationSchedule.exportState}). */
    public Builder optAccumulation(AccumulationSchedule.State state) {
      this.accumulation = state;
      return this;
    }

    /** The random generators' states. */
    public Builder optRandomStates(RandomStates states) {
      this.randomStates = states == null ? RandomStates.empty() : states;
      return this;
    }

    /** Builds the checkpoint. */
    public Checkpoint build() {
      return new Checkpoint(this);
    }
  }
}
