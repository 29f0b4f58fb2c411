package dev.drivekd.core.attention;

import ai.djl.ndarray.NDArray;

/**
 * Averages attention probabilities over heads before any loss, as the reference does for student
 * and teacher alike: {@code M[b,i,j] = (1/H) Σ_h P[b,h,i,j]} (method.md 1.1, trainer.py L237).
 */
public final class HeadAverage {

  private HeadAverage() {}

  /**
   * Returns the head mean of one layer's attention probabilities.
   *
   * @param probabilities {@code [B, H, L, L]}
   * @return {@code [B, L, L]}, in the graph of the input
   */
  public static NDArray of(NDArray probabilities) {
    if (probabilities.getShape().dimension() != 4) {
      throw new IllegalArgumentException(
          "attention probabilities must be [B, H, L, L], got " + probabilities.getShape());
    }
    return probabilities.mean(new int[] {1});
  }
}
