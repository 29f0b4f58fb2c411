package dev.drivekd.eval.metrics;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU (Papineni et al. 2002) up to 4-grams, uniform weights, no smoothing, as NLTK's {@code
 * corpus_bleu} and sacreBLEU (with {@code smooth_method="none"}) compute it: per hypothesis, n-gram
 * counts clipped by their largest count in any one reference and the reference length closest to
 * the hypothesis (the shorter one on a tie); summed over the corpus; then the geometric mean of the
 * four precisions times the brevity penalty. A corpus with no matching n-gram of some order scores
 * 0 (NLTK returns a value below 1e-150 there). Scores are in [0, 1].
 *
 * <p>Per-sample {@link Stats} add up, so a bootstrap over samples recomputes corpus BLEU from
 * resampled sums.
 */
public final class Bleu {

  /** The largest n-gram order. */
  public static final int ORDER = 4;

  private Bleu() {}

  /**
   * One hypothesis's counts.
   *
   * @param matches clipped matches per order (index 0 = unigrams)
   * @param totals hypothesis n-grams per order
   * @param hypothesisLength hypothesis tokens
   * @param referenceLength the closest reference's tokens
   */
  public record Stats(long[] matches, long[] totals, long hypothesisLength, long referenceLength) {

    /** The element-wise sum of {@code stats}. */
    public static Stats sum(Collection<Stats> stats) {
      long[] m = new long[ORDER];
      long[] t = new long[ORDER];
      long h = 0;
      long r = 0;
      for (Stats s : stats) {
        for (int n = 0; n < ORDER; n++) {
          m[n] += s.matches[n];
          t[n] += s.totals[n];
        }
        h += s.hypothesisLength;
        r += s.referenceLength;
      }
      return new Stats(m, t, h, r);
    }
  }

  /** The counts of one tokenised hypothesis against its tokenised references (at least one). */
  public static Stats stats(List<String> hypothesis, List<List<String>> references) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("BLEU needs at least one reference");
    }
    long[] matches = new long[ORDER];
    long[] totals = new long[ORDER];
    for (int n = 1; n <= ORDER; n++) {
      Map<List<String>, Integer> hyp = ngrams(hypothesis, n);
      Map<List<String>, Integer> maxRef = new HashMap<>();
      for (List<String> ref : references) {
        ngrams(ref, n).forEach((g, c) -> maxRef.merge(g, c, Math::max));
      }
      long m = 0;
      long t = 0;
      for (Map.Entry<List<String>, Integer> e : hyp.entrySet()) {
        m += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
        t += e.getValue();
      }
      matches[n - 1] = m;
      totals[n - 1] = t;
    }
    int c = hypothesis.size();
    int closest = references.get(0).size();
    for (List<String> ref : references) {
      int r = ref.size();
      int d = Math.abs(r - c);
      int best = Math.abs(closest - c);
      if (d < best || (d == best && r < closest)) {
        closest = r;
      }
    }
    return new Stats(matches, totals, c, closest);
  }

  /** Corpus BLEU of summed counts. */
  public static double score(Stats corpus) {
    double logSum = 0;
    for (int n = 0; n < ORDER; n++) {
      if (corpus.matches[n] == 0 || corpus.totals[n] == 0) {
        return 0.0;
      }
      logSum += Math.log((double) corpus.matches[n] / corpus.totals[n]);
    }
    long c = corpus.hypothesisLength;
    long r = corpus.referenceLength;
    double brevity = c >= r ? 1.0 : Math.exp(1.0 - (double) r / c);
    return brevity * Math.exp(logSum / ORDER);
  }

  /** Corpus BLEU of many hypotheses' counts. */
  public static double score(Collection<Stats> perHypothesis) {
    return score(Stats.sum(perHypothesis));
  }

  static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
    Map<List<String>, Integer> counts = new HashMap<>();
    for (int i = 0; i + n <= tokens.size(); i++) {
      counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
    }
    return counts;
  }
}
