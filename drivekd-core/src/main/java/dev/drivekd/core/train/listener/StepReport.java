package dev.drivekd.core.train.listener;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One optimizer step as the listeners see it. Loss values are the means over the step's
 * accumulation window of the raw (unscaled, unweighted) per-task losses.
 *
 * @param epoch the 0-based epoch
 * @param optimizerStep optimizer steps completed, this one included
 * @param microStep micro-steps completed in the run
 * @param samples samples trained in the run
 * @param loss the combined loss the trainer reports (the reference logs {@code Σ w_k·L_k} with the
 *     static weights)
 * @param losses every loss term by task key, e.g. {@code ce}, {@code p:first_att_Atv}
 * @param taskWeights the loss weight {@code w_k} of every active task during the window
 * @param projection projection counts of the window
 * @param learningRate the learning rate this step used
 * @param gradientNorm the global gradient norm before the step, NaN when not measured
 * @param samplesPerSecond training throughput over the window
 * @param skippedUpdates optimizer updates skipped so far in the run (non-finite gradients)
 */
public record StepReport(
    long epoch,
    long optimizerStep,
    long microStep,
    long samples,
    double loss,
    Map<String, Double> losses,
    Map<String, Double> taskWeights,
    ProjectionStats projection,
    double learningRate,
    double gradientNorm,
    double samplesPerSecond,
    long skippedUpdates) {

  /** Ordered defensive copies; a null projection becomes {@link ProjectionStats#none()}. */
  public StepReport {
    losses = copy(losses);
    taskWeights = copy(taskWeights);
    projection = projection == null ? ProjectionStats.none() : projection;
  }

  private static Map<String, Double> copy(Map<String, Double> map) {
    return map == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
