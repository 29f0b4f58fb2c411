package dev.drivekd.gradproj;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The one-backward stand-in for a combine: exact where the combination is uniform over the support
 * patterns, the least-squares fit otherwise, checked against the materialised tensors.
 */
class LossCoefficientsTest {
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void theWeightedSumIsExactlyItsWeights() {
    RandomGradients r = new RandomGradients(11, 4, 9, 0.4);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m);
        CombinedGradient c = GradientProjection.none().combine(g)) {
      LossCoefficients fit = c.lossCoefficients();
      assertTrue(fit.exact());
      for (int k = 0; k < 4; k++) {
        assertEquals(r.weights[k], fit.raw()[k], 0.0);
        assertEquals(1.0, fit.relativeToWeights()[k], 1e-15);
      }
      assertEquals(1.0, c.cosineWith(r.weights), 1e-12);
    }
  }

  @Test
  void agpOnOneSharedPatternIsReproducedExactlyByOneBackward() {
    int fired = 0;
    for (long seed = 1; seed <= 10; seed++) {
      RandomGradients r = new RandomGradients(seed, 4, 6, 0.0); // every task everywhere
      try (NDManager m = manager.newSubManager();
          TaskGradients g = r.load(m);
          CombinedGradient c = GradientProjection.agp().optSeed(seed).combine(g)) {
        fired += c.report().projectionsFired();
        LossCoefficients fit = c.lossCoefficients();
        assertTrue(fit.exact(), "seed " + seed);
        double[][] errors = residualDots(r, c, fit.raw(), m);
        for (int p = 0; p < r.shapes.size(); p++) {
          assertEquals(0.0, errors[1][p], 1e-20 + 1e-24 * errors[2][p], "seed " + seed);
        }
      }
    }
    assertTrue(fired > 5, "the seeds must exercise projections, fired " + fired);
  }

  @Test
  void onDifferingPatternsTheFitIsTheLeastSquaresOptimum() {
    int inexact = 0;
    for (long seed = 1; seed <= 30; seed++) {
      RandomGradients r = new RandomGradients(seed, 4, 8, 0.35);
      try (NDManager m = manager.newSubManager();
          TaskGradients g = r.load(m);
          CombinedGradient c = GradientProjection.agp().optSeed(seed).combine(g)) {
        LossCoefficients fit = c.lossCoefficients();
        if (fit.exact()) {
          continue;
        }
        inexact++;
        double[][] d = residualDots(r, c, fit.raw(), m);
        // normal equations: the residual is orthogonal to every task gradient
        double scale = Math.sqrt(d[2][0]);
        for (int k = 0; k < 4; k++) {
          assertEquals(0.0, d[0][k], 1e-9 * scale * Math.sqrt(d[3][k]), "seed " + seed);
        }
        // the fit's cosine, from the Gram matrices, is the tensors' cosine
        assertEquals(d[4][0], fit.fitCosine(), 1e-10, "seed " + seed);
        assertEquals(fit.fitCosine(), c.cosineWith(fit.raw()), 1e-12);
        assertTrue(fit.fitCosine() > 0 && fit.fitCosine() < 1);
        // and any other multipliers come no closer
        double[] other = fit.raw();
        other[(int) (seed % 4)] *= 1.05;
        assertTrue(c.cosineWith(other) <= fit.fitCosine() + 1e-12);
      }
    }
    assertTrue(inexact >= 10, "the seeds must produce differing patterns, got " + inexact);
  }

  @Test
  void relativeMultipliersDivideByTheWeights() {
    RandomGradients r = new RandomGradients(4, 4, 8, 0.35);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m);
        CombinedGradient c = GradientProjection.agp().combine(g)) {
      LossCoefficients fit = c.lossCoefficients();
      for (int k = 0; k < 4; k++) {
        assertEquals(fit.raw()[k] / r.weights[k], fit.relativeToWeights()[k], 1e-15);
      }
      assertEquals(r.tasks, fit.tasks());
    }
  }

  @Test
  void theRefreshIntervalIsAnOptionRecordedOnlyWhenAmortised() {
    assertEquals(1, GradientProjection.agp().refreshEvery());
    assertFalse(GradientProjection.agp().options().containsKey("refreshEvery"));
    GradientProjection every8 = GradientProjection.agp().optRefreshEvery(8);
    assertEquals(8, every8.refreshEvery());
    assertEquals(8, every8.options().get("refreshEvery"));
    assertThrows(IllegalArgumentException.class, () -> GradientProjection.agp().optRefreshEvery(0));
  }

  /**
   * From the tensors, with {@code e = sum_k c_k g_k - combined}: [0][k] = {@code <g_k, e>}; [1][p]
   * = {@code |e|^2} on parameter p; [2][p] = {@code |combined|^2} on p ([2][0] holds the total);
   * [3][k] = {@code |g_k|^2}; [4][0] = cosine of {@code sum_k c_k g_k} and the combined gradient.
   */
  private static double[][] residualDots(
      RandomGradients r, CombinedGradient c, double[] coef, NDManager m) {
    int tasks = r.tasks.size();
    int params = r.shapes.size();
    double[][] out = new double[5][Math.max(tasks, params)];
    double fitDotCombined = 0;
    double fitNorm = 0;
    double combinedNorm = 0;
    for (int p = 0; p < params; p++) {
      NDArray combined = c.materialize(p, m);
      double[] comb =
          combined == null ? new double[(int) r.shapes.get(p).size()] : combined.toDoubleArray();
      double[] fit = new double[comb.length];
      for (int k = 0; k < tasks; k++) {
        double[] gk = r.values.get(k).get(p);
        if (gk != null) {
          for (int i = 0; i < fit.length; i++) {
            fit[i] += coef[k] * gk[i];
          }
        }
      }
      double e2 = 0;
      double c2 = 0;
      for (int i = 0; i < fit.length; i++) {
        double e = fit[i] - comb[i];
        e2 += e * e;
        c2 += comb[i] * comb[i];
        fitDotCombined += fit[i] * comb[i];
        fitNorm += fit[i] * fit[i];
        for (int k = 0; k < tasks; k++) {
          double[] gk = r.values.get(k).get(p);
          if (gk != null) {
            out[0][k] += gk[i] * e;
            out[3][k] += gk[i] * gk[i];
          }
        }
      }
      out[1][p] = e2;
      out[2][p] = c2;
      combinedNorm += c2;
    }
    out[2][0] = combinedNorm;
    out[4][0] = fitDotCombined / Math.sqrt(fitNorm * combinedNorm);
    return out;
  }
}
