package dev.drivekd.eval.study;

import dev.drivekd.core.attention.TokenLayout;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The layer studies' statistics, on the host with ND4J, every layer of a sample at once: a sample's
 * hidden states arrive as one {@code [N+1, L, D]} array and its maps as one {@code [N, L, L]}
 * array, and each statistic is a few whole-array operations or matrix products (selection and
 * averaging as matrices), never one ND4J call per row, cell or layer: ND4J's cost per call, not its
 * arithmetic, decides the time on arrays this small.
 */
final class SampleSignals {

  private static final double EPS = 1e-12;

  private SampleSignals() {}

  /**
   * Per layer {@code i}, the mean over positions of the cosine between {@code a[i, p]} and {@code
   * b[i, p]}.
   *
   * @param a {@code [n, L, D]}
   * @param b {@code [n, L, D]}
   */
  static double[] rowCosines(INDArray a, INDArray b) {
    INDArray dot = a.mul(b).sum(2);
    INDArray norms = a.norm2(2).muli(b.norm2(2)).addi(EPS);
    return dot.divi(norms).mean(1).toDoubleVector();
  }

  /**
   * Per layer, the weighted sum of positions: {@code out[i] = sum_p w[p] h[i, p]}.
   *
   * @param h {@code [m, L, D]}
   * @param w {@code L} weights
   * @return {@code [m, D]}
   */
  static INDArray weightedRows(INDArray h, float[] w) {
    long m = h.size(0);
    long length = h.size(1);
    long d = h.size(2);
    INDArray byPosition = h.permute(1, 0, 2).dup('c').reshape(length, m * d);
    return Nd4j.create(w, new long[] {1, length}, 'c').mmul(byPosition).reshape(m, d);
  }

  /** Weights {@code 1/|positions|} at {@code positions} of {@code length}, 0 elsewhere. */
  static float[] meanWeights(int[] positions, int length) {
    float[] w = new float[length];
    for (int p : positions) {
      w[p] = 1f / positions.length;
    }
    return w;
  }

  /** The cosine of each row of {@code x} with the same row of {@code y} ({@code [m, D]}). */
  static double[] rowwiseCosine(INDArray x, INDArray y) {
    INDArray norms = x.norm2(1).muli(y.norm2(1)).addi(EPS);
    return x.mul(y).sum(1).divi(norms).toDoubleVector();
  }

  /**
   * {@code left x m[i] x right} for every {@code i}, flattened: {@code [n, r * c]}.
   *
   * @param m {@code [n, L, L']}
   * @param left {@code [r, L]}
   * @param right {@code [L', c]}
   */
  static INDArray sandwich(INDArray m, INDArray left, INDArray right) {
    long n = m.size(0);
    long rows = m.size(1);
    long c = right.columns();
    long r = left.rows();
    INDArray mr = m.reshape(n * rows, m.size(2)).mmul(right).reshape(n, rows, c);
    INDArray byRow = mr.permute(1, 0, 2).dup('c').reshape(rows, n * c);
    return left.mmul(byRow).reshape(r, n, c).permute(1, 0, 2).dup('c').reshape(n, r * c);
  }

  /**
   * {@code [bins, n]}: row i averages the positions of bin i of {@code n} (repeating when n <
   * bins).
   */
  static INDArray averaging(int bins, long n) {
    float[] a = new float[(int) (bins * n)];
    for (int i = 0; i < bins; i++) {
      long from = i * n / bins;
      long to = Math.max(from + 1, (i + 1) * n / bins);
      for (long j = from; j < to; j++) {
        a[(int) (i * n + j)] = 1f / (to - from);
      }
    }
    return Nd4j.create(a, new long[] {bins, n}, 'c');
  }

  /** {@code [k, n]} with a one in column {@code index[i]} of row {@code i}: selects positions. */
  static INDArray selector(int[] index, long n) {
    float[] a = new float[(int) (index.length * n)];
    for (int i = 0; i < index.length; i++) {
      a[(int) (i * n + index[i])] = 1f;
    }
    return Nd4j.create(a, new long[] {index.length, n}, 'c');
  }

  /** The full maps {@code [n, L, L]} pooled to {@code [n, bins * bins]}. */
  static INDArray pooledMaps(INDArray maps, int bins) {
    long length = maps.size(1);
    return sandwich(maps, averaging(bins, length), averaging(bins, length).transpose());
  }

  /**
   * The text-to-vision blocks of maps {@code [n, L, L]} pooled to {@code [n, binsR * binsC]}: rows
   * are text positions after the first vision position (earlier text cannot attend to an image),
   * columns the vision positions.
   *
   * @return the pooled blocks, or null when the sample has no image or no text after it
   */
  static INDArray pooledTextToVision(INDArray maps, TokenLayout layout, int binsR, int binsC) {
    int length = layout.length(0);
    int[] cols = IntStream.range(0, length).filter(i -> layout.isImage(0, i)).toArray();
    if (cols.length == 0) {
      return null;
    }
    int[] rows = IntStream.range(cols[0], length).filter(i -> layout.isText(0, i)).toArray();
    if (rows.length == 0) {
      return null;
    }
    INDArray left = averaging(binsR, rows.length).mmul(selector(rows, length));
    INDArray right =
        selector(cols, length).transpose().mmul(averaging(binsC, cols.length).transpose());
    return sandwich(maps, left, right);
  }

  /** Layers {@code from .. to-1} of {@code x} along its first axis, as a view. */
  static INDArray layers(INDArray x, long from, long to) {
    return x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all());
  }

  /**
   * Mean pairwise cosine between the rows of {@code x} ({@code [n, d]}, n >= 2), self pairs
   * excluded.
   */
  static double meanPairwiseCosine(INDArray x) {
    long n = x.rows();
    INDArray unit = x.divColumnVector(x.norm2(1).reshape(n, 1).addi(EPS));
    INDArray gram = unit.mmul(unit.transpose());
    double total = gram.sumNumber().doubleValue() - Nd4j.diag(gram).sumNumber().doubleValue();
    return total / (n * (n - 1));
  }

  /** Mean over rows of {@code 1 - cos(row, mean row)} ({@code [n, d]}). */
  static double dispersion(INDArray x) {
    long d = x.columns();
    INDArray mean = x.mean(0).reshape(d, 1);
    double meanNorm = mean.norm2Number().doubleValue();
    if (meanNorm == 0) {
      return 1.0;
    }
    INDArray dots = x.mmul(mean).reshape(x.rows());
    INDArray cos = dots.divi(x.norm2(1).addi(EPS).muli(meanNorm));
    return 1 - cos.meanNumber().doubleValue();
  }
}
