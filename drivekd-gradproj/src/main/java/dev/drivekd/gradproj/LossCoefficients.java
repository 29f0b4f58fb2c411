package dev.drivekd.gradproj;

import java.util.Arrays;
import java.util.List;

/**
 * One multiplier per task loss, {@code c_k}, such that a single backward pass of {@code sum_k c_k
 * L_k} yields {@code sum_k c_k g_k}: the vector reachable with one backward that is closest, in the
 * least-squares sense over every parameter, to a combine's result. This is what an amortised
 * projection ({@link GradientProjection#optRefreshEvery}) reuses between full combines.
 *
 * <p>A combine's result is a linear combination of the task gradients with its own coefficients on
 * each support pattern (the set of tasks that reach a parameter). One backward applies the same
 * multiplier to a task everywhere, so the fit is <b>exact</b> when every task's coefficient is the
 * same on all the patterns where it is present (the plain weighted sum always; AGP when the model's
 * parameters all share one pattern, or when no projection fired); otherwise the multipliers solve
 * the normal equations {@code (sum_p G_p) c = sum_p G_p C_p} built from the per-pattern Gram
 * matrices {@code G_p} and coefficient vectors {@code C_p}, and {@link #fitCosine()} says how close
 * {@code sum_k c_k g_k} comes to the combine's result.
 */
public final class LossCoefficients {
  private final List<String> tasks;
  private final double[] raw;
  private final double[] weights;
  private final double fitCosine;
  private final boolean exact;

  LossCoefficients(
      List<String> tasks, double[] raw, double[] weights, double fitCosine, boolean exact) {
    this.tasks = List.copyOf(tasks);
    this.raw = raw.clone();
    this.weights = weights.clone();
    this.fitCosine = fitCosine;
    this.exact = exact;
  }

  /** Task names, in the order of the combine (index 0 is the anchor). */
  public List<String> tasks() {
    return tasks;
  }

  /** The multiplier of each task's (unweighted) loss, by task index. */
  public double[] raw() {
    return raw.clone();
  }

  /**
   * The multipliers relative to the weights the combine saw, {@code c_k / w_k} (1 where {@code w_k}
   * is 0: no information, the plain weighted sum). A later micro-step whose weights differ (another
   * sample's mixing entries, moved dynamic weights) multiplies these by its own weights.
   */
  public double[] relativeToWeights() {
    double[] r = new double[raw.length];
    for (int k = 0; k < r.length; k++) {
      r[k] = weights[k] == 0 ? 1.0 : raw[k] / weights[k];
    }
    return r;
  }

  /**
   * Cosine between {@code sum_k c_k g_k} and the combine's result, from the Gram matrices (1 when
   * exact, NaN when the result is the zero vector).
   */
  public double fitCosine() {
    return fitCosine;
  }

  /** Whether {@code sum_k c_k g_k} is the combine's result itself (up to rounding). */
  public boolean exact() {
    return exact;
  }

  @Override
  public String toString() {
    return "LossCoefficients"
        + tasks
        + Arrays.toString(raw)
        + (exact ? " exact" : " fit cosine " + fitCosine);
  }

  /** The coefficients for {@code total}, the result of a combine over {@code gram}. */
  static LossCoefficients fit(
      List<String> tasks, double[] weights, Combination total, GramMatrices gram) {
    int k = tasks.size();
    double[] uniform = uniformCoefficients(total, gram, weights);
    if (uniform != null) {
      return new LossCoefficients(tasks, uniform, weights, 1.0, true);
    }
    if (!gram.hasGrams()) {
      throw new IllegalStateException("a non-uniform combination needs the Gram matrices");
    }
    double[][] normal = new double[k][k];
    double[] rhs = new double[k];
    for (int p = 0; p < gram.patternCount(); p++) {
      double[][] g = gram.gram(p);
      for (int r = 0; r < k; r++) {
        for (int c = 0; c < k; c++) {
          normal[r][c] += g[r][c];
          if (total.present[p]) {
            rhs[r] += g[r][c] * total.coefficients[p][c];
          }
        }
      }
    }
    double[] c = solveOnReachedTasks(normal, rhs, weights);
    Combination oneBackward = Combination.ofRawCoefficients(gram, c);
    return new LossCoefficients(tasks, c, weights, cosine(oneBackward, total, gram), false);
  }

  /**
   * Per task, its coefficient when it is the same on every pattern where the task is present and
   * the result too; {@code null} when some task's differs. A task present nowhere keeps its weight.
   */
  private static double[] uniformCoefficients(
      Combination total, GramMatrices gram, double[] weights) {
    int k = weights.length;
    double[] c = new double[k];
    for (int t = 0; t < k; t++) {
      boolean seen = false;
      for (int p = 0; p < gram.patternCount(); p++) {
        if (!gram.taskPresent(p, t)) {
          continue;
        }
        double v = total.present[p] ? total.coefficients[p][t] : 0.0;
        if (!seen) {
          c[t] = v;
          seen = true;
        } else if (!sameValue(c[t], v)) {
          return null;
        }
      }
      if (!seen) {
        c[t] = weights[t];
      }
    }
    return c;
  }

  private static boolean sameValue(double a, double b) {
    return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));
  }

  /**
   * Solves {@code normal c = rhs} over the tasks with a non-zero gradient (Gaussian elimination
   * with partial pivoting, a relative ridge of 1e-12 against collinear tasks); a task whose
   * gradient is zero everywhere keeps its weight.
   */
  private static double[] solveOnReachedTasks(double[][] normal, double[] rhs, double[] weights) {
    int k = rhs.length;
    int[] index = new int[k];
    int n = 0;
    double maxDiagonal = 0;
    for (int t = 0; t < k; t++) {
      maxDiagonal = Math.max(maxDiagonal, normal[t][t]);
    }
    for (int t = 0; t < k; t++) {
      if (normal[t][t] > 0) {
        index[n++] = t;
      }
    }
    double[] c = weights.clone();
    if (n == 0) {
      return c;
    }
    double[][] a = new double[n][n + 1];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a[i][j] = normal[index[i]][index[j]];
      }
      a[i][i] += 1e-12 * maxDiagonal;
      a[i][n] = rhs[index[i]];
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] swap = a[col];
      a[col] = a[pivot];
      a[pivot] = swap;
      for (int r = col + 1; r < n; r++) {
        double f = a[r][col] / a[col][col];
        for (int j = col; j <= n; j++) {
          a[r][j] -= f * a[col][j];
        }
      }
    }
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = a[i][n];
      for (int j = i + 1; j < n; j++) {
        s -= a[i][j] * x[j];
      }
      x[i] = s / a[i][i];
    }
    for (int i = 0; i < n; i++) {
      c[index[i]] = x[i];
    }
    return c;
  }

  /** Cosine of two combinations of the same gradients; NaN when either is the zero vector. */
  static double cosine(Combination a, Combination b, GramMatrices gram) {
    double ab = a.dot(b, gram);
    double aa = a.normSquared(gram);
    double bb = b.normSquared(gram);
    if (aa <= 0 || bb <= 0) {
      return Double.NaN;
    }
    return ab / Math.sqrt(aa * bb);
  }
}
