package dev.drivekd.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;

/**
 * One model input: {@code B} right-padded sequences of token ids with their images, and the layout
 * that says which positions are vision tokens, which are supervised and where the padding starts
 * (method.md 1.1).
 *
 * <p>Vision positions carry a placeholder id in {@code inputIds} (any id in range; models replace
 * those embeddings with the image's vision tokens). Images are consumed in sequence order: the
 * first {@code tokensPerImage} vision positions of sample 0 take image 0, and so on through the
 * batch. The arrays belong to the caller's manager, typically a per-step sub-manager, and every
 * array a model computes from them joins that manager.
 *
 * @param inputIds {@code [B, L]} int64 token ids
 * @param pixelValues {@code [N, 3, S, S]} float32 normalised images, {@code N} = number of image
 *     segments in the batch; {@code null} when the batch has no image
 * @param layout positions of vision tokens, supervised tokens, labels and lengths
 */
public record VlmBatch(NDArray inputIds, NDArray pixelValues, TokenLayout layout) {

  /** Checks that ids, images and layout agree. */
  public VlmBatch {
    if (inputIds == null || layout == null) {
      throw new IllegalArgumentException("inputIds and layout are required");
    }
    Shape ids = inputIds.getShape();
    if (ids.dimension() != 2
        || ids.get(0) != layout.batchSize()
        || ids.get(1) != layout.paddedLength()) {
      throw new IllegalArgumentException(
          "inputIds must be [B, L] = ["
              + layout.batchSize()
              + ", "
              + layout.paddedLength()
              + "], got "
              + ids);
    }
    if (inputIds.getDataType() != DataType.INT64) {
      throw new IllegalArgumentException("inputIds must be int64, got " + inputIds.getDataType());
    }
    if (pixelValues != null && pixelValues.getShape().dimension() != 4) {
      throw new IllegalArgumentException(
          "pixelValues must be [N, 3, S, S], got " + pixelValues.getShape());
    }
  }

  /** The batch size {@code B}. */
  public int batchSize() {
    return layout.batchSize();
  }

  /** The padded sequence length {@code L}. */
  public int length() {
    return layout.paddedLength();
  }

  /** The number of images {@code N} (0 when there is none). */
  public int imageCount() {
    return pixelValues == null ? 0 : (int) pixelValues.getShape().get(0);
  }

  /** The manager the batch lives in, where a model's outputs for it are created. */
  public NDManager manager() {
    return inputIds.getManager();
  }

  /** {@code [B, L]} boolean: true at vision-token positions. */
  public NDArray imageMask() {
    return layout.imageMask(manager());
  }

  /** The arrays of this batch, for engines that take an {@link NDList}. */
  public NDList arrays() {
    return pixelValues == null ? new NDList(inputIds) : new NDList(inputIds, pixelValues);
  }
}
