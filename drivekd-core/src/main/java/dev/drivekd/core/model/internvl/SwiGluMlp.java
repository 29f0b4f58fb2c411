package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;

/** Qwen2's MLP: {@code down_proj(silu(gate_proj(x)) * up_proj(x))}, no biases. */
final class SwiGluMlp extends SingleInputBlock {

  private final Dense gate;
  private final Dense up;
  private final Dense down;

  SwiGluMlp(long hidden, long intermediate, double std) {
    this.gate = module("gate_proj", new Dense(hidden, intermediate, false, std));
    this.up = module("up_proj", new Dense(hidden, intermediate, false, std));
    this.down = module("down_proj", new Dense(intermediate, hidden, false, std));
  }

  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    NDArray g = gate.apply(store, x, training);
    NDArray silu = g.mul(Activation.sigmoid(g));
    return down.apply(store, silu.mul(up.apply(store, x, training)), training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
