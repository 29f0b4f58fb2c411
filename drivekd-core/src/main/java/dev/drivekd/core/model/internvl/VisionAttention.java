package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.drivekd.core.engine.Scalars;

/**
 * InternViT's bidirectional attention with a fused {@code qkv} projection and an output {@code
 * proj}, as its eager path: {@code softmax((q * d^-0.5) k^T) v}.
 */
final class VisionAttention extends SingleInputBlock {

  private final int heads;
  private final int headDim;
  private final float scale;
  private final Dense qkv;
  private final Dense proj;

  VisionAttention(InternVlConfig.VisionConfig config, double std) {
    this.heads = config.numAttentionHeads();
    this.headDim = config.hiddenSize() / heads;
    this.scale = (float) Math.pow(headDim, -0.5);
    long c = config.hiddenSize();
    this.qkv = module("qkv", new Dense(c, 3 * c, true, std));
    this.proj = module("proj", new Dense(c, c, true, std));
  }

  /** {@code [N, T, C]} to {@code [N, T, C]}. */
  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    Shape shape = x.getShape();
    long n = shape.get(0);
    long t = shape.get(1);
    long c = shape.get(2);
    NDArray fused =
        qkv.apply(store, x, training).reshape(n, t, 3, heads, headDim).transpose(2, 0, 3, 1, 4);
    NDList parts = fused.split(3, 0);
    NDArray q = parts.get(0).squeeze(0);
    NDArray k = parts.get(1).squeeze(0);
    NDArray v = parts.get(2).squeeze(0);
    NDArray probabilities = Scalars.mul(q, scale).matMul(k.transpose(0, 1, 3, 2)).softmax(-1);
    NDArray context = probabilities.matMul(v).transpose(0, 2, 1, 3).reshape(n, t, c);
    return proj.apply(store, context, training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
