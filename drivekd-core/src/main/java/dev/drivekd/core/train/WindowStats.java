package dev.drivekd.core.train;

import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.core.train.listener.ProjectionStats;
import dev.drivekd.core.train.listener.StepReport;
import dev.drivekd.core.train.schedule.AccumulationSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the micro-steps of one accumulation window did, summed for the step's listeners. */
final class WindowStats {

  private final Map<String, double[]> losses = new LinkedHashMap<>();
  private Map<String, Float> weights;
  private ProjectionStats projection = ProjectionStats.none();
  private int samples;
  private long began = System.nanoTime();

  void add(DistillationStep.Outcome outcome, LossWeighting weighting) {
    if (samples == 0) {
      weights = new LinkedHashMap<>(weighting.currentWeights());
    }
    samples++;
    for (Map.Entry<String, Float> e : outcome.losses().entrySet()) {
      if (Float.isFinite(e.getValue())) {
        double[] sumCount = losses.computeIfAbsent(e.getKey(), k -> new double[2]);
        sumCount[0] += e.getValue();
        sumCount[1]++;
      }
    }
    if (outcome.projection() != null) {
      projection = projection.plus(ProjectionStats.of(outcome.projection(), outcome.reuse()));
    }
  }

  StepReport toReport(
      MicroStepReport last,
      AccumulationSchedule accumulation,
      long skippedUpdates,
      LossWeighting weighting) {
    Map<String, Double> means = new LinkedHashMap<>();
    double combined = 0;
    for (Map.Entry<String, double[]> e : losses.entrySet()) {
      double mean = e.getValue()[0] / e.getValue()[1];
      means.put(e.getKey(), mean);
      combined += weighting.staticWeights().getOrDefault(e.getKey(), 0.0) * mean;
    }
    Map<String, Double> w = new LinkedHashMap<>();
    if (weights != null) {
      weights.forEach((k, v) -> w.put(k, (double) v));
    }
    double seconds = (System.nanoTime() - began) / 1e9;
    return new StepReport(
        last.epoch(),
        accumulation.optimizerSteps(),
        accumulation.microSteps(),
        accumulation.microSteps(),
        combined,
        means,
        w,
        projection,
        last.learningRate(),
        Double.NaN,
        seconds > 0 ? samples / seconds : Double.NaN,
        skippedUpdates);
  }

  void reset() {
    losses.clear();
    weights = null;
    projection = ProjectionStats.none();
    samples = 0;
    began = System.nanoTime();
  }
}
