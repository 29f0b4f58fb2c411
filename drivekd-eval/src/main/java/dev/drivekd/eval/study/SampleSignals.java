package dev.drivekd.eval.study;

import dev.drivekd.core.attention.TokenLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the layer studies read of one sample's forward pass, on the host as ND4J arrays: per layer
 * the hidden state and the head-averaged attention map, pooled to fixed shapes so that samples of
 * different lengths compare, and the per-token statistics that need the full arrays.
 */
final class SampleSignals {

  private SampleSignals() {}

  /**
   * Row-wise cosine of two {@code [T, D]} arrays, averaged over rows.
   *
   * @param a hidden states of one layer
   * @param b hidden states of the next
   */
  static double meanRowCosine(INDArray a, INDArray b) {
    INDArray dot = a.mul(b).sum(1);
    INDArray norms = a.norm2(1).mul(b.norm2(1)).addi(1e-12);
    return dot.divi(norms).meanNumber().doubleValue();
  }

  /** Cosine of two vectors (0 when either is zero). */
  static double cosine(INDArray a, INDArray b) {
    double na = a.norm2Number().doubleValue();
    double nb = b.norm2Number().doubleValue();
    return na == 0 || nb == 0 ? 0 : a.mul(b).sumNumber().doubleValue() / (na * nb);
  }

  /** The mean of the rows of {@code x} selected by {@code rows}, as a vector {@code [D]}. */
  static INDArray meanOfRows(INDArray x, int[] rows) {
    return x.getRows(rows).mean(0);
  }

  /**
   * Average-pools a {@code [R, C]} array into {@code [bins r, bins c]} cells of (nearly) equal
   * size; with fewer rows or columns than bins, rows or columns repeat.
   */
  static INDArray pool(INDArray x, int binsR, int binsC) {
    long r = x.rows();
    long c = x.columns();
    INDArray out = Nd4j.create(DataType.FLOAT, binsR, binsC);
    for (int i = 0; i < binsR; i++) {
      long r0 = i * r / binsR;
      long r1 = Math.max(r0 + 1, (i + 1) * r / binsR);
      for (int j = 0; j < binsC; j++) {
        long c0 = j * c / binsC;
        long c1 = Math.max(c0 + 1, (j + 1) * c / binsC);
        out.putScalar(
            i,
            j,
            x.get(
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(r0, r1),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(c0, c1))
                .meanNumber()
                .doubleValue());
      }
    }
    return out;
  }

  /**
   * The text-to-vision block of a map {@code [L, L]}: rows are text positions after the first
   * vision position (earlier text cannot attend to an image), columns the vision positions.
   *
   * @return the block, or null when the sample has no image or no text after it
   */
  static INDArray textToVision(INDArray map, TokenLayout layout) {
    int length = layout.length(0);
    int firstVision = -1;
    int visions = 0;
    for (int i = 0; i < length; i++) {
      if (layout.isImage(0, i)) {
        visions++;
        if (firstVision < 0) {
          firstVision = i;
        }
      }
    }
    if (firstVision < 0) {
      return null;
    }
    int[] rows =
        java.util.stream.IntStream.range(firstVision, length)
            .filter(i -> layout.isText(0, i))
            .toArray();
    int[] cols =
        java.util.stream.IntStream.range(0, length).filter(i -> layout.isImage(0, i)).toArray();
    if (rows.length == 0 || visions == 0) {
      return null;
    }
    return map.getRows(rows).getColumns(cols);
  }

  /**
   * Mean pairwise cosine between the rows of {@code x} ({@code [n, d]}, n >= 2), self pairs
   * excluded.
   */
  static double meanPairwiseCosine(INDArray x) {
    long n = x.rows();
    INDArray unit = x.divColumnVector(x.norm2(1).reshape(n, 1).addi(1e-12));
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
    INDArray cos = dots.divi(x.norm2(1).addi(1e-12).muli(meanNorm));
    return 1 - cos.meanNumber().doubleValue();
  }
}
