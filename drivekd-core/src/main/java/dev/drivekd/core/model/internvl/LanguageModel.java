package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The Qwen2 causal LM of InternVL3 ({@code language_model}): {@code model.embed_tokens}, {@code
 * model.layers.i}, {@code model.norm} and an untied {@code lm_head}.
 */
final class LanguageModel extends InternVlBlock {

  private final InternVlConfig.LanguageConfig config;
  private final TokenEmbedding embedTokens;
  private final List<DecoderLayer> layers;
  private final RmsNorm norm;
  private final Dense lmHead;
  private final RotaryEmbedding rotary;

  LanguageModel(InternVlConfig.LanguageConfig config, double std) {
    this.config = config;
    this.embedTokens =
        module(
            "model.embed_tokens", new TokenEmbedding(config.vocabSize(), config.hiddenSize(), std));
    List<DecoderLayer> list = new ArrayList<>();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      list.add(module("model.layers." + i, new DecoderLayer(i, config, std)));
    }
    this.layers = Collections.unmodifiableList(list);
    this.norm = module("model.norm", new RmsNorm(config.hiddenSize(), config.rmsNormEps()));
    this.lmHead = module("lm_head", new Dense(config.hiddenSize(), config.vocabSize(), false, std));
    this.rotary = new RotaryEmbedding(config.headDim(), config.ropeTheta());
  }

  InternVlConfig.LanguageConfig config() {
    return config;
  }

  TokenEmbedding embedTokens() {
    return embedTokens;
  }

  List<DecoderLayer> layers() {
    return layers;
  }

  RotaryEmbedding rotary() {
    return rotary;
  }

  /** Final norm then the LM head: {@code [B, L, D]} to {@code [B, L, V]}. */
  NDArray logits(ParameterStore store, NDArray hidden, boolean training) {
    return lmHead.apply(store, norm.apply(store, hidden, training), training);
  }

  /** The final RMSNorm alone (Hugging Face's last hidden state). */
  NDArray finalNorm(ParameterStore store, NDArray hidden, boolean training) {
    return norm.apply(store, hidden, training);
  }

  /** The LM head alone, on already normalised states. */
  NDArray head(ParameterStore store, NDArray normed, boolean training) {
    return lmHead.apply(store, normed, training);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    // inputs: input ids [B, L] (a plain causal LM pass, no padding); returns logits
    NDArray ids = inputs.get(0);
    int length = (int) ids.getShape().get(1);
    NDArray hidden = embedTokens.apply(store, ids, training);
    RotaryEmbedding.Tables rope = rotary.tables(ids.getManager(), 0, length);
    NDArray mask = AttentionMasks.causal(ids.getManager(), length);
    for (DecoderLayer layer : layers) {
      hidden = layer.apply(store, hidden, rope, mask, false, null, training)[0];
    }
    return new NDList(logits(store, hidden, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(config.vocabSize())};
  }
}
