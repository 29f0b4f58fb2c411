package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;

/** LayerNorm over the last axis with {@code weight} (ones) and {@code bias} (zeros). */
final class LayerNormBlock extends SingleInputBlock {

  private final Shape normalized;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;

  LayerNormBlock(long dim, double eps) {
    this.normalized = new Shape(dim);
    this.eps = (float) eps;
    this.weight = parameter("weight", normalized, ParameterInit.constant(1f));
    this.bias = parameter("bias", normalized, ParameterInit.constant(0f));
  }

  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    return LayerNorm.layerNorm(
            x, normalized, value(store, weight, x, training), value(store, bias, x, training), eps)
        .singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
