package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One Qwen2 decoder layer, pre-norm: {@code h += self_attn(input_layernorm(h)); h +=
 * mlp(post_attention_layernorm(h))}. Intermediates live in the layer's own {@link NDScope} and are
 * freed when it returns (the autograd graph keeps what backward needs); only the output and, when
 * asked, the attention probabilities leave it.
 */
final class DecoderLayer extends InternVlBlock {

  private final int index;
  private final RmsNorm inputNorm;
  private final DecoderAttention attention;
  private final RmsNorm postNorm;
  private final SwiGluMlp mlp;

  DecoderLayer(int index, InternVlConfig.LanguageConfig config, double std) {
    this.index = index;
    this.inputNorm =
        module("input_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
    this.attention = module("self_attn", new DecoderAttention(config, std));
    this.postNorm =
        module("post_attention_layernorm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
    this.mlp = module("mlp", new SwiGluMlp(config.hiddenSize(), config.intermediateSize(), std));
  }

  /**
   * Runs the layer.
   *
   * @return {@code [hidden [B, L, D], probabilities [B, H, L, T] or null]}
   */
  NDArray[] apply(
      ParameterStore store,
      NDArray hidden,
      RotaryEmbedding.Tables rope,
      NDArray mask,
      boolean keepProbabilities,
      KvCache cache,
      boolean training) {
    NDArray out;
    NDArray probabilities;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray[] attended =
          attention.apply(
              store,
              inputNorm.apply(store, hidden, training),
              rope,
              mask,
              keepProbabilities,
              cache,
              index,
              training);
      NDArray residual = hidden.add(attended[0]);
      out = residual.add(mlp.apply(store, postNorm.apply(store, residual, training), training));
      probabilities = attended[1];
      keep(out, probabilities);
    }
    escape(out, probabilities);
    return new NDArray[] {out, probabilities};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    BlockInputs in = BlockInputs.of(inputs, params);
    return blockOutputs(apply(store, in.x(), in.rope(), in.mask(), in.keep(), null, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return attention.getOutputShapes(inputShapes);
  }
}
