package dev.drivekd.gradproj;

import java.util.Arrays;

/**
 * A gradient vector expressed as a linear combination of the K task gradients, with its own
 * coefficients on each support pattern and a presence flag per pattern (absent = PyTorch's {@code
 * None}). All projection arithmetic runs on these few numbers on the host; the parameter-sized
 * result is formed once at the end.
 */
final class Combination {
  final double[][] coefficients; // [pattern][task]
  final boolean[] present; // [pattern]

  private Combination(double[][] coefficients, boolean[] present) {
    this.coefficients = coefficients;
    this.present = present;
  }

  /** {@code weight * g_task}, present exactly where the task reaches the parameters. */
  static Combination task(GramMatrices gram, int task, double weight) {
    int patterns = gram.patternCount();
    double[][] c = new double[patterns][gram.taskCount()];
    boolean[] present = new boolean[patterns];
    for (int p = 0; p < patterns; p++) {
      if (gram.taskPresent(p, task)) {
        present[p] = true;
        c[p][task] = weight;
      }
    }
    return new Combination(c, present);
  }

  /**
   * {@code sum_k c[k] * g_k} as one backward pass of {@code sum_k c[k] * L_k} forms it: present
   * wherever some task reaches the parameters.
   */
  static Combination ofRawCoefficients(GramMatrices gram, double[] c) {
    Combination sum = absent(gram);
    for (int k = 0; k < c.length; k++) {
      sum = sum.plus(task(gram, k, c[k]));
    }
    return sum;
  }

  /** The absent vector (None everywhere). */
  static Combination absent(GramMatrices gram) {
    return new Combination(
        new double[gram.patternCount()][gram.taskCount()], new boolean[gram.patternCount()]);
  }

  /** None-aware sum: None + x = x, None + None = None. */
  Combination plus(Combination other) {
    double[][] c = new double[coefficients.length][];
    boolean[] p = new boolean[present.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = coefficients[i].clone();
      for (int k = 0; k < c[i].length; k++) {
        c[i][k] += other.coefficients[i][k];
      }
      p[i] = present[i] || other.present[i];
    }
    return new Combination(c, p);
  }

  /** Scales every coefficient; presence is unchanged. */
  Combination times(double s) {
    double[][] c = new double[coefficients.length][];
    for (int i = 0; i < c.length; i++) {
      c[i] = coefficients[i].clone();
      for (int k = 0; k < c[i].length; k++) {
        c[i][k] *= s;
      }
    }
    return new Combination(c, present.clone());
  }

  /** Dot product over the patterns where both vectors are present. */
  double dot(Combination other, GramMatrices gram) {
    double sum = 0;
    for (int p = 0; p < present.length; p++) {
      if (present[p] && other.present[p]) {
        sum += quadratic(coefficients[p], gram.gram(p), other.coefficients[p]);
      }
    }
    return sum;
  }

  /** Squared norm over the patterns where this vector is present. */
  double normSquared(GramMatrices gram) {
    return dot(this, gram);
  }

  /**
   * {@code f - coef * a} where both are present; {@code f} where the anchor is absent; absent where
   * {@code f} is absent (never {@code -coef * a}: the reference's asymmetry, method.md 4.3).
   */
  Combination minusOnSupport(double coef, Combination anchor) {
    double[][] c = new double[coefficients.length][];
    for (int p = 0; p < c.length; p++) {
      c[p] = coefficients[p].clone();
      if (present[p] && anchor.present[p]) {
        for (int k = 0; k < c[p].length; k++) {
          c[p][k] -= coef * anchor.coefficients[p][k];
        }
      }
    }
    return new Combination(c, present.clone());
  }

  /** Whether the vector is present on any pattern. */
  boolean anyPresent() {
    for (boolean b : present) {
      if (b) {
        return true;
      }
    }
    return false;
  }

  private static double quadratic(double[] u, double[][] g, double[] v) {
    double s = 0;
    for (int i = 0; i < u.length; i++) {
      if (u[i] == 0) {
        continue;
      }
      double row = 0;
      for (int j = 0; j < v.length; j++) {
        row += g[i][j] * v[j];
      }
      s += u[i] * row;
    }
    return s;
  }

  @Override
  public String toString() {
    return "Combination"
        + Arrays.deepToString(coefficients)
        + " present "
        + Arrays.toString(present);
  }
}
