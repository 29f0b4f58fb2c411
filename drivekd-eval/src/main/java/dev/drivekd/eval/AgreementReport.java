package dev.drivekd.eval;

import dev.drivekd.core.data.Capability;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Per-sample scores of {@link TeacherAgreement}, with means per question capability.
 *
 * @param samples one score per sample, in the dataset's order
 */
public record AgreementReport(List<SampleScore> samples) {

  /** Copies the list. */
  public AgreementReport {
    samples = List.copyOf(samples);
  }

  /**
   * One sample's scores.
   *
   * @param index the sample's position in the dataset
   * @param capability the sample's question capability
   * @param crossEntropy the answer-token cross-entropy
   * @param attentionLoss per teacher capability, the recipe's loss between the student's and that
   *     teacher's attention signal on this sample
   */
  public record SampleScore(
      int index,
      Capability capability,
      double crossEntropy,
      Map<Capability, Double> attentionLoss) {

    /** Copies the map. */
    public SampleScore {
      attentionLoss = Collections.unmodifiableMap(new EnumMap<>(attentionLoss));
    }

    /** The loss against the teacher of the sample's own capability (NaN without that teacher). */
    public double ownTeacherLoss() {
      return attentionLoss.getOrDefault(capability, Double.NaN);
    }
  }

  /** Mean answer cross-entropy over the samples of {@code capability} (NaN when there is none). */
  public double meanCrossEntropy(Capability capability) {
    return mean(capability, SampleScore::crossEntropy);
  }

  /**
   * Mean loss against each sample's own-capability teacher over the samples of {@code capability}
   * (NaN when there is none).
   */
  public double meanOwnTeacherLoss(Capability capability) {
    return mean(capability, SampleScore::ownTeacherLoss);
  }

  /** Mean answer cross-entropy over all samples. */
  public double meanCrossEntropy() {
    return samples.stream().mapToDouble(SampleScore::crossEntropy).average().orElse(Double.NaN);
  }

  private double mean(Capability capability, ToDoubleFunction<SampleScore> f) {
    return samples.stream()
        .filter(s -> s.capability() == capability)
        .mapToDouble(f)
        .average()
        .orElse(Double.NaN);
  }
}
