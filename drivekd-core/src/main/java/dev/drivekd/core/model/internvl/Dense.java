package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

/**
 * {@code y = x W^T + b} with {@code W} stored {@code [out, in]} as in PyTorch ({@code weight},
 * optional {@code bias}).
 */
final class Dense extends SingleInputBlock {

  private final long in;
  private final long out;
  private final Parameter weight;
  private final Parameter bias;

  Dense(long in, long out, boolean withBias, double std) {
    this.in = in;
    this.out = out;
    this.weight = parameter("weight", new Shape(out, in), ParameterInit.normal(std));
    this.bias = withBias ? parameter("bias", new Shape(out), ParameterInit.constant(0f)) : null;
  }

  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    NDArray w = value(store, weight, x, training);
    NDArray b = bias == null ? null : value(store, bias, x, training);
    return Linear.linear(x, w, b).singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    if (s.get(s.dimension() - 1) != in) {
      throw new IllegalArgumentException("expected last dimension " + in + ", got " + s);
    }
    return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
  }
}
