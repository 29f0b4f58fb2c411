package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.HostData;

/**
 * Hard-label cross-entropy on answer tokens with the next-token shift (method.md 2.3, HF {@code
 * ForCausalLMLoss}): per sample {@code −(1/|P_b|) Σ_{t∈P_b} log softmax(logits[t])[label[t+1]]}
 * with {@code P_b = {t : label[t+1] != −100}}; logits are upcast to float32 (float64 stays). The
 * batch value is the mean of the per-sample values; a sample with no supervised token gives 0.
 *
 * <p>The labels are read to the host once (they are checked there anyway), so the log-softmax runs
 * on the supervised rows only, gathered by index, and the per-sample means are one small product
 * with a {@code [B, n]} averaging matrix: about a third of the time of a masked pass over every
 * position when the answer is a quarter of the sequence.
 */
public final class NextTokenCrossEntropy {

  private NextTokenCrossEntropy() {}

  /** The answer-token cross-entropy. */
  public static NextTokenCrossEntropy create() {
    return new NextTokenCrossEntropy();
  }

  /**
   * Per-sample values {@code [B]}.
   *
   * @param logits {@code [B, L, V]}, in the graph
   * @param labels {@code [B, L]} integer label ids, {@code -100} where not supervised
   */
  public NDArray perSample(NDArray logits, NDArray labels) {
    Shape shape = logits.getShape();
    if (shape.dimension() != 3
        || labels.getShape().dimension() != 2
        || labels.getShape().get(0) != shape.get(0)
        || labels.getShape().get(1) != shape.get(1)) {
      throw new IllegalArgumentException(
          "logits must be [B, L, V] and labels [B, L]; got " + shape + " and " + labels.getShape());
    }
    long vocabulary = shape.get(2);
    long[] ids = hostLabels(labels, vocabulary);
    int batch = (int) shape.get(0);
    int length = (int) shape.get(1);
    return LossSupport.scoped(
        () -> {
          // the predicting positions t of sample b: label[b][t+1] != -100
          int[] counts = new int[batch];
          int supervised = 0;
          for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < length; t++) {
              if (ids[b * length + t + 1] != TokenLayout.IGNORE_LABEL) {
                counts[b]++;
                supervised++;
              }
            }
          }
          if (supervised == 0) {
            return LossSupport.attachedZero(logits);
          }
          long[] rows = new long[supervised];
          long[] targets = new long[supervised];
          // averaging[b][k] = 1 / |P_b| when supervised row k belongs to sample b
          double[] averaging = new double[batch * supervised];
          int k = 0;
          for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < length; t++) {
              long target = ids[b * length + t + 1];
              if (target != TokenLayout.IGNORE_LABEL) {
                rows[k] = (long) b * length + t;
                targets[k] = target;
                averaging[b * supervised + k] = 1.0 / counts[b];
                k++;
              }
            }
          }
          // log-softmax over the supervised rows only: the answer is a small part of the sequence
          NDManager manager = logits.getManager();
          DataType type = LossSupport.computeType(logits);
          // host-made indices and weights are saved for backward: libtorch must own them
          NDArray rowIndex = HostData.owned(manager.create(rows));
          NDArray targetIndex = HostData.owned(manager.create(targets, new Shape(supervised, 1)));
          NDArray picked =
              LossSupport.as(logits.reshape(-1, vocabulary).get(rowIndex), type)
                  .logSoftmax(1)
                  .gather(targetIndex, 1);
          NDArray weights =
              HostData.owned(manager.create(averaging, new Shape(batch, supervised)))
                  .toType(type, false);
          return weights.matMul(picked).reshape(batch).neg();
        });
  }

  /** Per-sample values {@code [B]} with the label ids of {@code layout}. */
  public NDArray perSample(NDArray logits, TokenLayout layout) {
    return LossSupport.scoped(() -> perSample(logits, layout.labels(logits.getManager())));
  }

  /** The batch loss: the mean of the per-sample values (a scalar). */
  public NDArray evaluate(NDArray logits, NDArray labels) {
    return LossSupport.scoped(() -> perSample(logits, labels).mean());
  }

  /** The labels on the host, checked: each is {@code -100} or a token id below the vocabulary. */
  private static long[] hostLabels(NDArray labels, long vocabulary) {
    long[] ids;
    if (labels.getDataType() == DataType.INT64) {
      ids = labels.toLongArray();
    } else {
      try (NDArray asLong = labels.toType(DataType.INT64, true)) {
        ids = asLong.toLongArray();
      }
    }
    for (int k = 0; k < ids.length; k++) {
      long id = ids[k];
      if (id != TokenLayout.IGNORE_LABEL && (id < 0 || id >= vocabulary)) {
        throw new IllegalArgumentException(
            "label "
                + id
                + " at flat position "
                + k
                + " is neither -100 nor a token id below the vocabulary size "
                + vocabulary);
      }
    }
    return ids;
  }
}
