package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;

/**
 * Hard-label cross-entropy on answer tokens with the next-token shift (method.md 2.3, HF {@code
 * ForCausalLMLoss}): per sample {@code −(1/|P_b|) Σ_{t∈P_b} log softmax(logits[t])[label[t+1]]}
 * with {@code P_b = {t : label[t+1] != −100}}; logits are upcast to float32 (float64 stays). The
 * batch value is the mean of the per-sample values; a sample with no supervised token gives 0.
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
    checkLabels(labels, shape.get(2));
    long length = shape.get(1);
    return LossSupport.scoped(
        () -> {
          if (length < 2) {
            return LossSupport.attachedZero(logits);
          }
          DataType type = LossSupport.computeType(logits);
          NDArray predicting = LossSupport.as(logits.get(":, 0:" + (length - 1)), type);
          NDArray targets = labels.get(":, 1:").toType(DataType.INT64, false);
          NDArray supervised = targets.neq(TokenLayout.IGNORE_LABEL);
          NDArray safeTargets = NDArrays.where(supervised, targets, targets.zerosLike());
          NDArray picked = predicting.logSoftmax(2).gather(safeTargets.expandDims(2), 2).squeeze(2);
          NDArray weights = supervised.toType(type, false);
          NDArray count = Scalars.maximum(weights.sum(new int[] {1}), 1);
          return picked.mul(weights).sum(new int[] {1}).div(count).neg();
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

  private static void checkLabels(NDArray labels, long vocabulary) {
    long[] ids;
    try (NDArray asLong = labels.toType(DataType.INT64, true)) {
      ids = asLong.toLongArray();
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
  }
}
