package dev.drivekd.core.train;

import dev.drivekd.core.train.listener.MicroStepReport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link DistillationTrainer#fit} run did: the raw loss of every task at every micro-step
 * (NaN where a task did not run), the number of optimizer steps and of skipped updates.
 *
 * @param losses per task key, one value per micro-step in training order
 * @param microSteps micro-steps taken
 * @param optimizerSteps optimizer steps taken
 * @param skippedUpdates micro-steps whose update was skipped (non-finite loss or gradient)
 * @param phaseSeconds seconds the training thread spent in each {@link StepPhase}, by {@link
 *     StepPhase#key()} in phase order (empty for a per-epoch summary)
 * @param reuse what the amortised projection reused and how close it came ({@link
 *     CoefficientReuseSummary#none()} when every micro-step combined)
 */
public record TrainingSummary(
    Map<String, List<Float>> losses,
    int microSteps,
    long optimizerSteps,
    long skippedUpdates,
    Map<String, Double> phaseSeconds,
    CoefficientReuseSummary reuse) {

  /** Copies the history. */
  public TrainingSummary {
    Map<String, List<Float>> copy = new LinkedHashMap<>();
    losses.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    losses = Collections.unmodifiableMap(copy);
    phaseSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(phaseSeconds));
  }

  /** Seconds spent in {@code phase}; 0 where it was not recorded. */
  public double seconds(StepPhase phase) {
    return phaseSeconds.getOrDefault(phase.key(), 0.0);
  }

  /**
   * The mean of a task's finite losses over micro-steps {@code [from, to)}; NaN when there is none.
   */
  public double meanLoss(String task, int from, int to) {
    List<Float> values = losses.getOrDefault(task, List.of());
    double sum = 0;
    int n = 0;
    for (int i = Math.max(0, from); i < Math.min(to, values.size()); i++) {
      float v = values.get(i);
      if (Float.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** Collects micro-step reports into a summary. */
  static final class Recorder {
    private final Map<String, List<Float>> losses = new LinkedHashMap<>();
    private int steps;
    private final CoefficientReuseSummary.Recorder reuse = new CoefficientReuseSummary.Recorder();

    void add(MicroStepReport report) {
      reuse.add(report.reuse());
      for (String key : report.losses().keySet()) {
        losses.computeIfAbsent(
            key,
            k -> {
              List<Float> fill = new ArrayList<>();
              for (int i = 0; i < steps; i++) {
                fill.add(Float.NaN);
              }
              return fill;
            });
      }
      for (Map.Entry<String, List<Float>> e : losses.entrySet()) {
        e.getValue().add(report.losses().getOrDefault(e.getKey(), Float.NaN));
      }
      steps++;
    }

    TrainingSummary finish(long skipped, long optimizerSteps, Map<String, Double> phaseSeconds) {
      return new TrainingSummary(
          losses, steps, optimizerSteps, skipped, phaseSeconds, reuse.finish());
    }
  }
}
