package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;

/** InternVL's {@code mlp1}: LayerNorm(4C) → Linear(4C, D) → GELU → Linear(D, D). */
final class VisionProjector extends SingleInputBlock {

  private final LayerNormBlock norm;
  private final Dense in;
  private final Dense out;
  private final long hidden;

  VisionProjector(long visionHidden, long llmHidden, double eps, double std) {
    this.hidden = llmHidden;
    this.norm = module("0", new LayerNormBlock(4 * visionHidden, eps));
    this.in = module("1", new Dense(4 * visionHidden, llmHidden, true, std));
    this.out = module("3", new Dense(llmHidden, llmHidden, true, std));
  }

  @Override
  NDArray apply(ParameterStore store, NDArray x, boolean training) {
    NDArray h = Activation.gelu(in.apply(store, norm.apply(store, x, training), training));
    return out.apply(store, h, training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    return new Shape[] {s.slice(0, s.dimension() - 1).add(hidden)};
  }
}
