package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in Hugging Face's {@code rotate_half} convention (Qwen2): with inverse
 * frequencies {@code f_i = theta^(-2i/d)}, {@code i < d/2}, position {@code p} rotates {@code x} as
 * {@code x * cos(p f') + rotate_half(x) * sin(p f')}, where {@code f' = cat(f, f)} and {@code
 * rotate_half(x) = cat(-x[d/2:], x[:d/2])}.
 */
final class RotaryEmbedding {

  private final int headDim;
  private final float[] inverseFrequencies;

  RotaryEmbedding(int headDim, double theta) {
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("rotary head_dim must be even, got " + headDim);
    }
    this.headDim = headDim;
    this.inverseFrequencies = new float[headDim / 2];
    for (int i = 0; i < headDim / 2; i++) {
      // float32 like Hugging Face: theta ** (2i/d) in float, then its reciprocal
      float power = (float) Math.pow(theta, (float) (2 * i) / headDim);
      inverseFrequencies[i] = 1f / power;
    }
  }

  /** The inverse frequencies {@code f_i}. */
  float[] inverseFrequencies() {
    return inverseFrequencies.clone();
  }

  /**
   * The cosine and signed sine tables of positions {@code start .. start+length-1}, each {@code
   * [length, headDim]}: {@code cos = cos(p f')}, {@code sin = [-sin(p f), sin(p f)]} (the sign of
   * {@code rotate_half} folded in).
   */
  Tables tables(NDManager manager, int start, int length) {
    NDArray positions =
        manager.arange((float) start, (float) (start + length), 1f, DataType.FLOAT32);
    NDArray frequencies =
        positions
            .reshape(length, 1)
            .mul(manager.create(inverseFrequencies, new Shape(1, headDim / 2)));
    NDArray cosHalf = frequencies.cos();
    NDArray sinHalf = frequencies.sin();
    NDArray cos = NDArrays.concat(new NDList(cosHalf, cosHalf), -1);
    NDArray sin = NDArrays.concat(new NDList(sinHalf.neg(), sinHalf), -1);
    return new Tables(cos, sin);
  }

  /**
   * Rotates {@code x} ({@code [..., length, headDim]}) with tables of the same length: {@code x *
   * cos + swap(x) * sin}, where {@code swap(x) = cat(x[d/2:], x[:d/2])}; equal, bit for bit, to
   * Hugging Face's {@code x * cos + rotate_half(x) * sin}.
   */
  static NDArray apply(NDArray x, Tables tables) {
    int last = x.getShape().dimension() - 1;
    long half = x.getShape().get(last) / 2;
    NDList halves = x.split(new long[] {half}, last);
    NDArray swapped = NDArrays.concat(new NDList(halves.get(1), halves.get(0)), last);
    return x.mul(tables.cos()).add(swapped.mul(tables.sin()));
  }

  /**
   * Rotary tables for a run of positions.
   *
   * @param cos {@code [length, headDim]}
   * @param sin {@code [length, headDim]}, sign of {@code rotate_half} folded in
   */
  record Tables(NDArray cos, NDArray sin) {}
}
