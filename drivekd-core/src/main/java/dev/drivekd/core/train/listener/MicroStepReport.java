package dev.drivekd.core.train.listener;

import dev.drivekd.core.data.Capability;
import dev.drivekd.gradproj.ProjectionReport;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one micro-step (one sample) did.
 *
 * @param epoch 0-based epoch
 * @param indexInEpoch 0-based position in the epoch's order
 * @param sampleIndices the micro-batch's sample indices in the dataset (one: the reference)
 * @param capabilities each sample's capability
 * @param losses raw (unscaled, unweighted) loss per task key, ce first
 * @param taskWeights the scalar each task gradient was multiplied by (loss weight times mix)
 * @param gradientNorms norm of each task's gradient of its scaled, unweighted loss (empty on a
 *     micro-step that reused projection coefficients: one backward measures none)
 * @param projection what the gradient projection did (null when the step was skipped)
 * @param reuse what the amortised projection did (null when every micro-step combines, or the step
 *     was skipped)
 * @param skipped why the update was skipped (a non-finite loss or gradient), or null
 * @param optimizerStepped whether the optimizer stepped after this micro-step
 * @param learningRate the rate of the optimizer step this micro-step belongs to
 */
public record MicroStepReport(
    long epoch,
    int indexInEpoch,
    List<Integer> sampleIndices,
    List<Capability> capabilities,
    Map<String, Float> losses,
    Map<String, Float> taskWeights,
    Map<String, Double> gradientNorms,
    ProjectionReport projection,
    CoefficientReuseReport reuse,
    String skipped,
    boolean optimizerStepped,
    double learningRate) {

  /** Copies the maps, keeping their order. */
  public MicroStepReport {
    sampleIndices = List.copyOf(sampleIndices);
    capabilities = List.copyOf(capabilities);
    losses = Collections.unmodifiableMap(new LinkedHashMap<>(losses));
    taskWeights = Collections.unmodifiableMap(new LinkedHashMap<>(taskWeights));
    gradientNorms = Collections.unmodifiableMap(new LinkedHashMap<>(gradientNorms));
  }

  /** Whether the update of this sample was skipped. */
  public boolean wasSkipped() {
    return skipped != null;
  }
}
