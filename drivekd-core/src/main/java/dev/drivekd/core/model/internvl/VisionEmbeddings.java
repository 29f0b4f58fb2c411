package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;

/**
 * InternViT's embeddings: a stride-{@code p} convolution cuts the image into patches ({@code
 * patch_embedding}), a learned {@code class_embedding} is prepended and learned {@code
 * position_embedding}s are added ({@code [1, P+1, C]}; at the trained resolution InternViT's
 * bicubic resize of the table is the identity).
 */
final class VisionEmbeddings extends SingleInputBlock {

  private final InternVlConfig.VisionConfig config;
  private final Parameter classEmbedding;
  private final Parameter patchWeight;
  private final Parameter patchBias;
  private final Parameter positionEmbedding;

  VisionEmbeddings(InternVlConfig.VisionConfig config, double std) {
    this.config = config;
    long c = config.hiddenSize();
    long p = config.patchSize();
    this.classEmbedding =
        parameter("class_embedding", new Shape(1, 1, c), ParameterInit.normal(std));
    this.patchWeight =
        parameter("patch_embedding.weight", new Shape(c, 3, p, p), ParameterInit.normal(std));
    this.patchBias = parameter("patch_embedding.bias", new Shape(c), ParameterInit.constant(0f));
    this.positionEmbedding =
        parameter(
            "position_embedding",
            new Shape(1, config.numPatches() + 1L, c),
            ParameterInit.normal(std));
  }

  /** {@code [N, 3, S, S]} pixels to {@code [N, P+1, C]} tokens (CLS first). */
  @Override
  NDArray apply(ParameterStore store, NDArray pixels, boolean training) {
    Shape shape = pixels.getShape();
    if (shape.dimension() != 4
        || shape.get(1) != 3
        || shape.get(2) != config.imageSize()
        || shape.get(3) != config.imageSize()) {
      throw new IllegalArgumentException(
          "pixelValues must be [N, 3, "
              + config.imageSize()
              + ", "
              + config.imageSize()
              + "], got "
              + shape);
    }
    long n = shape.get(0);
    long c = config.hiddenSize();
    long p = config.patchSize();
    NDArray patches =
        Conv2d.conv2d(
                pixels,
                value(store, patchWeight, pixels, training),
                value(store, patchBias, pixels, training),
                new Shape(p, p))
            .singletonOrThrow()
            .reshape(n, c, config.numPatches())
            .transpose(0, 2, 1);
    // zeros + class embedding: the broadcast CLS tokens, created in the batch's manager
    NDArray cls =
        pixels
            .getManager()
            .zeros(new Shape(n, 1, c), patches.getDataType())
            .add(value(store, classEmbedding, pixels, training));
    NDArray tokens = NDArrays.concat(new NDList(cls, patches), 1);
    return tokens.add(value(store, positionEmbedding, pixels, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {
      new Shape(inputShapes[0].get(0), config.numPatches() + 1L, config.hiddenSize())
    };
  }
}
