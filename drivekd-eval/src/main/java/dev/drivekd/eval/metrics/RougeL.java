package dev.drivekd.eval.metrics;

import java.util.List;

/**
 * ROUGE-L (Lin 2004) of one prediction against one reference, as Google's rouge-score computes
 * {@code rougeL}: the longest common subsequence of the two token lists, precision = LCS /
 * prediction length, recall = LCS / reference length, F = harmonic mean (0 when either is empty).
 */
public final class RougeL {

  private RougeL() {}

  /**
   * Precision, recall and F-measure.
   *
   * @param precision LCS over prediction tokens
   * @param recall LCS over reference tokens
   * @param f their harmonic mean
   */
  public record Score(double precision, double recall, double f) {}

  /** ROUGE-L of {@code prediction} against {@code reference}. */
  public static Score of(List<String> prediction, List<String> reference) {
    if (prediction.isEmpty() || reference.isEmpty()) {
      return new Score(0, 0, 0);
    }
    int lcs = lcs(prediction, reference);
    double p = (double) lcs / prediction.size();
    double r = (double) lcs / reference.size();
    return new Score(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r));
  }

  /** The length of the longest common subsequence, in O(|a| |b|) time and O(|b|) memory. */
  static int lcs(List<String> a, List<String> b) {
    int[] prev = new int[b.size() + 1];
    int[] cur = new int[b.size() + 1];
    for (String x : a) {
      for (int j = 1; j <= b.size(); j++) {
        cur[j] = x.equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.size()];
  }
}
