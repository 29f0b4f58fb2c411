package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;

/**
 * One InternViT block, pre-LayerNorm: {@code h += attn(norm1(h)) * ls1; h += mlp(norm2(h)) * ls2}
 * with {@code mlp = fc2(gelu(fc1(x)))}; without layer scale the products are skipped. Runs in its
 * own {@link NDScope}.
 */
final class VisionLayer extends SingleInputBlock {

  private final LayerNormBlock norm1;
  private final VisionAttention attention;
  private final LayerNormBlock norm2;
  private final Dense fc1;
  private final Dense fc2;
  private final Parameter ls1;
  private final Parameter ls2;

  VisionLayer(InternVlConfig.VisionConfig config, double std) {
    long c = config.hiddenSize();
    this.attention = module("attn", new VisionAttention(config, std));
    this.fc1 = module("mlp.fc1", new Dense(c, config.intermediateSize(), true, std));
    this.fc2 = module("mlp.fc2", new Dense(config.intermediateSize(), c, true, std));
    this.norm1 = module("norm1", new LayerNormBlock(c, config.layerNormEps()));
    this.norm2 = module("norm2", new LayerNormBlock(c, config.layerNormEps()));
    if (config.hasLayerScale()) {
      ParameterInit init = ParameterInit.constant((float) config.layerScaleInit());
      this.ls1 = parameter("ls1", new Shape(c), init);
      this.ls2 = parameter("ls2", new Shape(c), init);
    } else {
      this.ls1 = null;
      this.ls2 = null;
    }
  }

  @Override
  NDArray apply(ParameterStore store, NDArray hidden, boolean training) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray attended = attention.apply(store, norm1.apply(store, hidden, training), training);
      if (ls1 != null) {
        attended = attended.mul(value(store, ls1, hidden, training));
      }
      NDArray residual = hidden.add(attended);
      NDArray inner =
          Activation.gelu(fc1.apply(store, norm2.apply(store, residual, training), training));
      NDArray mlp = fc2.apply(store, inner, training);
      if (ls2 != null) {
        mlp = mlp.mul(value(store, ls2, hidden, training));
      }
      out = residual.add(mlp);
      keep(out);
    }
    escape(out);
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
