package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.drivekd.core.engine.Scalars;

/**
 * Qwen2 eager self-attention with grouped-query heads (method.md 1.1): {@code q/k/v_proj} with
 * bias, {@code o_proj} without; RoPE on queries and keys; {@code S = QK^T / sqrt(d) + mask}; {@code
 * P = softmax(S)} in float32, cast back to the query type. Query head {@code h} reads key/value
 * head {@code h / (H/KV)}, as Hugging Face's {@code repeat_kv}; the repeat is done by grouping
 * queries ({@code [B, KV, G*L, d]}) instead of copying keys and values.
 */
final class DecoderAttention extends InternVlBlock {

  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final float scale;
  private final boolean scaleQueries;
  private final Dense q;
  private final Dense k;
  private final Dense v;
  private final Dense o;

  DecoderAttention(InternVlConfig.LanguageConfig config, double std) {
    this.heads = config.numAttentionHeads();
    this.kvHeads = config.numKeyValueHeads();
    this.headDim = config.headDim();
    this.scale = (float) (1.0 / Math.sqrt(headDim));
    // A power-of-two scale is exact, so scaling the queries ([B, H, L, d]) gives the same bits as
    // scaling the scores ([B, H, L, T]) as Hugging Face does, at a fraction of the cost.
    this.scaleQueries = scale == Math.scalb(1f, Math.getExponent(scale));
    long d = config.hiddenSize();
    long kv = (long) kvHeads * headDim;
    this.q = module("q_proj", new Dense(d, (long) heads * headDim, true, std));
    this.k = module("k_proj", new Dense(d, kv, true, std));
    this.v = module("v_proj", new Dense(d, kv, true, std));
    this.o = module("o_proj", new Dense((long) heads * headDim, d, false, std));
  }

  /**
   * Attention output and, when {@code keepProbabilities}, the probabilities.
   *
   * @param x {@code [B, L, D]} normalised hidden states
   * @param rope rotary tables of the {@code L} query positions
   * @param mask additive mask broadcastable to {@code [B, H, L, T]}, or {@code null} for none
   * @param cache when not null, this step's keys and values are appended and attention runs over
   *     all cached ones ({@code T} = cached length)
   * @return {@code [out [B, L, D], probabilities [B, H, L, T] or null]}
   */
  NDArray[] apply(
      ParameterStore store,
      NDArray x,
      RotaryEmbedding.Tables rope,
      NDArray mask,
      boolean keepProbabilities,
      KvCache cache,
      int layer,
      boolean training) {
    Shape shape = x.getShape();
    long b = shape.get(0);
    long len = shape.get(1);
    int groups = heads / kvHeads;
    NDArray query =
        RotaryEmbedding.apply(
            q.apply(store, x, training).reshape(b, len, heads, headDim).transpose(0, 2, 1, 3),
            rope);
    NDArray key =
        RotaryEmbedding.apply(
            k.apply(store, x, training).reshape(b, len, kvHeads, headDim).transpose(0, 2, 1, 3),
            rope);
    NDArray value =
        v.apply(store, x, training).reshape(b, len, kvHeads, headDim).transpose(0, 2, 1, 3);
    if (cache != null) {
      NDArray[] full = cache.append(layer, key, value);
      key = full[0];
      value = full[1];
    }
    long keys = key.getShape().get(2);
    if (scaleQueries) {
      query = Scalars.mul(query, scale);
    }
    // the [B, H, L, T] intermediates are closed as soon as the next one exists (autograd keeps
    // what its backward needs on its own): at most two of them are alive at once, as in eager
    // PyTorch, instead of all of them until the layer's scope closes
    NDArray product =
        query.reshape(b, kvHeads, groups * len, headDim).matMul(key.transpose(0, 1, 3, 2));
    NDArray scores = product.reshape(b, heads, len, keys);
    if (!scaleQueries) {
      scores = replace(scores, Scalars.mul(scores, scale), product);
    }
    if (mask != null) {
      scores = replace(scores, scores.add(mask), product);
    }
    DataType type = query.getDataType();
    NDArray probabilities;
    if (type == DataType.FLOAT32) {
      probabilities = replace(scores, scores.softmax(-1), product);
    } else {
      NDArray wide = replace(scores, scores.toType(DataType.FLOAT32, false), product);
      NDArray softmax = replace(wide, wide.softmax(-1), null);
      probabilities = replace(softmax, softmax.toType(type, false), null);
    }
    NDArray context =
        probabilities
            .reshape(b, kvHeads, groups * len, keys)
            .matMul(value)
            .reshape(b, heads, len, headDim)
            .transpose(0, 2, 1, 3)
            .reshape(b, len, (long) heads * headDim);
    NDArray out = o.apply(store, context, training);
    return new NDArray[] {out, keepProbabilities ? probabilities : null};
  }

  /**
   * Returns {@code next} after closing {@code previous} and, once, {@code product} (the score
   * product {@code previous} may be a view of).
   */
  private static NDArray replace(NDArray previous, NDArray next, NDArray product) {
    previous.close();
    if (product != null) {
      product.close();
    }
    return next;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    BlockInputs in = BlockInputs.of(inputs, params);
    return blockOutputs(apply(store, in.x(), in.rope(), in.mask(), in.keep(), null, 0, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape x = inputShapes[0];
    return new Shape[] {x, new Shape(x.get(0), heads, x.get(1), x.get(1))};
  }
}
