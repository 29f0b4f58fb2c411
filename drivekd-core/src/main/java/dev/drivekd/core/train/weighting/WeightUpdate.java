package dev.drivekd.core.train.weighting;

import java.util.List;
import java.util.Map;

/**
 * What one end-of-window call of {@link LossWeighting#update()} did (method.md 3.3): the window's
 * mean statistics and, when the weights moved, the new weights and the intermediate values of the
 * balancing objective (for logging and parity checks). All values are float32, as in the reference.
 *
 * @param count micro-steps in the window
 * @param meanLosses {@code L̄_k = Σ L_k / count} per key seen in the window
 * @param meanNorms {@code n̄_k = Σ n_k / count} per key seen in the window
 * @param updated whether an AdamW step and renormalisation happened
 * @param newWeights the renormalised, clamped weights written back (empty when not updated)
 * @param internals the objective's intermediate values, or {@code null} when not updated
 */
public record WeightUpdate(
    int count,
    Map<String, Float> meanLosses,
    Map<String, Float> meanNorms,
    boolean updated,
    Map<String, Float> newWeights,
    Internals internals) {

  /** Defensive copies. */
  public WeightUpdate {
    meanLosses = Map.copyOf(meanLosses);
    meanNorms = Map.copyOf(meanNorms);
    newWeights = Map.copyOf(newWeights);
  }

  /** A window that changed nothing. */
  static WeightUpdate none(int count, Map<String, Float> meanLosses, Map<String, Float> meanNorms) {
    return new WeightUpdate(count, meanLosses, meanNorms, false, Map.of(), null);
  }

  /**
   * Intermediate values of one update, named as in the reference (trainer.py L555-615).
   *
   * @param avail keys present in both means, in active order
   * @param weightsNow {@code w_k} of every active key before the update
   * @param g {@code G_k = w_k · n̄_k}
   * @param gSum {@code S = Σ G_k}
   * @param targetShares {@code p_k}
   * @param lossRatios {@code r_k = L̄_k / max(1e-12, L0_k)}
   * @param rBar mean of the loss ratios
   * @param targets {@code p_k · q_k · S}
   * @param objective {@code J = Σ |G_k − target_k|}
   * @param gradA {@code ∂J/∂a_k} per key of {@code avail}
   * @param subsetSum {@code Σ w'_k} after the AdamW step, floored at 1e-20
   * @param targetSubsetSum {@code T}
   * @param scale {@code T / subsetSum}
   */
  public record Internals(
      List<String> avail,
      Map<String, Float> weightsNow,
      Map<String, Float> g,
      float gSum,
      Map<String, Double> targetShares,
      Map<String, Float> lossRatios,
      float rBar,
      Map<String, Float> targets,
      float objective,
      Map<String, Float> gradA,
      float subsetSum,
      double targetSubsetSum,
      double scale) {}
}
