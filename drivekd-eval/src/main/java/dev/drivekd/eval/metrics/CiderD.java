package dev.drivekd.eval.metrics;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D (Vedantam et al. 2015) as the COCO caption toolkit computes it ({@code pycocoevalcap}'s
 * {@code Cider}, which DriveBench reports): n-grams of orders 1-4 weighted by tf-idf, the document
 * frequency counted over the evaluated set's references; per order the clipped cosine between
 * hypothesis and each reference times a Gaussian length penalty ({@code sigma = 6}, lengths counted
 * as the toolkit does: tokens minus one); averaged over references and orders, times 10. A set of
 * one sample scores 0 (every idf is ln 1), as in the toolkit.
 */
public final class CiderD {

  private static final int ORDER = 4;
  private static final double SIGMA = 6.0;

  private final Map<List<String>, Integer> documentFrequency = new HashMap<>();
  private final double logDocuments;

  /**
   * The document frequencies of a set's references.
   *
   * @param referenceSets per sample, its tokenised references
   */
  public CiderD(List<List<List<String>>> referenceSets) {
    for (List<List<String>> refs : referenceSets) {
      Set<List<String>> seen = new HashSet<>();
      for (List<String> ref : refs) {
        for (int n = 1; n <= ORDER; n++) {
          seen.addAll(Bleu.ngrams(ref, n).keySet());
        }
      }
      seen.forEach(g -> documentFrequency.merge(g, 1, Integer::sum));
    }
    this.logDocuments = Math.log(referenceSets.size());
  }

  /** The score (0-10 scale) of one hypothesis against its references, with this set's weights. */
  public double score(List<String> hypothesis, List<List<String>> references) {
    Vector hyp = vector(hypothesis);
    double total = 0;
    for (List<String> reference : references) {
      Vector ref = vector(reference);
      double delta = hyp.length - ref.length;
      double penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
      double sum = 0;
      for (int n = 0; n < ORDER; n++) {
        double dot = 0;
        for (Map.Entry<List<String>, Double> e : hyp.weights.get(n).entrySet()) {
          Double r = ref.weights.get(n).get(e.getKey());
          if (r != null) {
            dot += Math.min(e.getValue(), r) * r;
          }
        }
        if (hyp.norms[n] != 0 && ref.norms[n] != 0) {
          dot /= hyp.norms[n] * ref.norms[n];
        }
        sum += dot * penalty;
      }
      total += sum / ORDER;
    }
    return total / references.size() * 10.0;
  }

  private record Vector(List<Map<List<String>, Double>> weights, double[] norms, int length) {}

  private Vector vector(List<String> tokens) {
    List<Map<List<String>, Double>> weights = new java.util.ArrayList<>(ORDER);
    double[] norms = new double[ORDER];
    for (int n = 1; n <= ORDER; n++) {
      Map<List<String>, Double> w = new HashMap<>();
      double squares = 0;
      for (Map.Entry<List<String>, Integer> e : Bleu.ngrams(tokens, n).entrySet()) {
        double df = Math.max(1, documentFrequency.getOrDefault(e.getKey(), 0));
        double value = e.getValue() * (logDocuments - Math.log(df));
        w.put(e.getKey(), value);
        squares += value * value;
      }
      weights.add(w);
      norms[n - 1] = Math.sqrt(squares);
    }
    // the toolkit's "length": the number of bigrams
    return new Vector(weights, norms, Math.max(0, tokens.size() - 1));
  }
}
