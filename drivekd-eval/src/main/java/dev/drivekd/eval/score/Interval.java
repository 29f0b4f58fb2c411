package dev.drivekd.eval.score;

/**
 * A score with its 95% bootstrap confidence interval.
 *
 * @param value the score on the whole set
 * @param low the 2.5th percentile of the bootstrap distribution
 * @param high the 97.5th percentile
 * @param n how many items it is computed from
 */
public record Interval(double value, double low, double high, int n) {

  /** No item: NaN value and bounds, n = 0. */
  public static Interval empty() {
    return new Interval(Double.NaN, Double.NaN, Double.NaN, 0);
  }

  /** Whether there was any item. */
  public boolean present() {
    return n > 0;
  }
}
