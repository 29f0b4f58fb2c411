package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * Qwen2's RMSNorm: {@code y = w * x / sqrt(mean(x^2) + eps)} over the last axis, computed in
 * float32 and cast back to the input type ({@code weight} starts at ones).
 */
final class RmsNorm extends SingleInputBlock {

  private final float eps;
  private final Parameter weight;

  RmsNorm(long dim, double eps) {
    this.eps = (float) eps;
    this.weight = parameter("weight", new Shape(dim), ParameterInit.constant(1f));
  }

  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    DataType type = x.getDataType();
    NDArray h = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    NDArray meanSquare = h.square().mean(new int[] {-1}, true);
    NDArray normed = h.div(meanSquare.add(eps).sqrt());
    if (type != DataType.FLOAT32) {
      normed = normed.toType(type, false);
    }
    return normed.mul(value(store, weight, x, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
