package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.drivekd.core.attention.HeadAverage;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.VlmBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The whole InternVL3 network as one DJL block, with Hugging Face's top-level modules {@code
 * vision_model}, {@code language_model} and {@code mlp1}. Vision tokens replace the embeddings of
 * the vision positions in sequence order; the decoder runs with a causal, key-padding mask and
 * positions {@code 0..L-1} (method.md 1.1).
 */
final class InternVlNetwork extends InternVlBlock {

  private final InternVlConfig config;
  private final VisionEncoder vision;
  private final LanguageModel language;
  private final VisionProjector projector;

  InternVlNetwork(InternVlConfig config) {
    this.config = config;
    double std = config.initializerRange();
    this.vision = module("vision_model", new VisionEncoder(config.vision(), std));
    this.language = module("language_model", new LanguageModel(config.language(), std));
    this.projector =
        module(
            "mlp1",
            new VisionProjector(
                config.vision().hiddenSize(),
                config.language().hiddenSize(),
                config.projector().layerNormEps(),
                std));
  }

  LanguageModel language() {
    return language;
  }

  /**
   * What one pass computed; arrays are registered in the caller's scope and attached to the batch's
   * manager.
   *
   * @param logits {@code [B, L, V]}
   * @param averaged requested layer to its head-averaged map {@code [B, L, L]}
   * @param perHead requested layer to its probabilities {@code [B, H, L, L]} (when asked)
   * @param hiddenStates input embeddings, the outputs of layers {@code 0..N-2}, and the final
   *     normalised state (when asked)
   */
  record Pass(
      NDArray logits,
      SortedMap<Integer, NDArray> averaged,
      SortedMap<Integer, NDArray> perHead,
      List<NDArray> hiddenStates) {}

  /**
   * The vision tokens of a batch of images: InternViT, drop CLS, pixel shuffle, {@code mlp1}.
   *
   * @param pixels {@code [N, 3, S, S]}
   * @return {@code [N, T, D]}, {@code T} = tokens per image
   */
  NDArray visionTokens(ParameterStore store, NDArray pixels, boolean training) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray last = vision.apply(store, pixels, training);
      long n = last.getShape().get(0);
      long c = last.getShape().get(2);
      int grid = config.vision().gridSize();
      NDArray patches = last.get(":, 1:, :").reshape(n, grid, grid, c);
      NDArray shuffled = PixelShuffle.shuffle(patches).reshape(n, config.tokensPerImage(), 4 * c);
      out = projector.apply(store, shuffled, training);
      keep(out);
    }
    escape(out);
    return out;
  }

  /**
   * The decoder's input embeddings {@code [B, L, D]}: token embeddings, with the vision tokens of
   * image {@code k} at the {@code k}-th run of {@code T} vision positions (counted through the
   * batch in sequence order).
   */
  NDArray inputEmbeddings(ParameterStore store, VlmBatch batch, boolean training) {
    NDArray text = language.embedTokens().apply(store, batch.inputIds(), training);
    int[] source = visionSource(batch);
    if (source == null) {
      return text;
    }
    int b = batch.batchSize();
    int len = batch.length();
    long d = config.language().hiddenSize();
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray tokens = visionTokens(store, batch.pixelValues(), training);
      NDArray rows =
          NDArrays.concat(new NDList(text.reshape((long) b * len, d), tokens.reshape(-1, d)), 0);
      NDArray index = batch.manager().create(source).toType(DataType.INT64, false);
      out = rows.get(index).reshape(b, len, d);
      keep(out);
    }
    escape(out);
    text.close();
    return out;
  }

  /**
   * For each flat position {@code b*L + i}, the row of {@code concat(text [B*L, D], vision [N*T,
   * D])} it takes, or {@code null} when the batch has no vision position. Checks that the vision
   * positions come in runs of whole images and that their number matches the images.
   */
  private int[] visionSource(VlmBatch batch) {
    TokenLayout layout = batch.layout();
    int b = layout.batchSize();
    int len = layout.paddedLength();
    int perImage = config.tokensPerImage();
    int[] source = new int[b * len];
    int next = 0;
    for (int s = 0; s < b; s++) {
      int run = 0;
      for (int i = 0; i < len; i++) {
        boolean image = layout.isImage(s, i);
        if (image) {
          source[s * len + i] = b * len + next++;
          run++;
        } else {
          source[s * len + i] = s * len + i;
        }
        if (run > 0 && (!image || i == len - 1)) {
          if (run % perImage != 0) {
            throw new IllegalArgumentException(
                "sample "
                    + s
                    + " has a run of "
                    + run
                    + " vision positions ending at position "
                    + (image ? i : i - 1)
                    + "; every image occupies "
                    + perImage
                    + " consecutive positions");
          }
          run = 0;
        }
      }
    }
    int images = batch.imageCount();
    if (next != (long) images * perImage) {
      throw new IllegalArgumentException(
          "the batch has "
              + next
              + " vision positions but "
              + images
              + " images of "
              + perImage
              + " tokens each ("
              + (long) images * perImage
              + ")");
    }
    return next == 0 ? null : source;
  }

  /** The full forward pass of a batch. */
  Pass run(
      ParameterStore store,
      VlmBatch batch,
      SortedSet<Integer> layers,
      boolean perHead,
      boolean hiddenStates,
      boolean withLogits,
      boolean training,
      StepConstants constants) {
    NDManager manager = batch.manager();
    TokenLayout layout = batch.layout();
    int len = layout.paddedLength();
    int[] lengths = new int[layout.batchSize()];
    for (int s = 0; s < lengths.length; s++) {
      lengths[s] = layout.length(s);
    }
    List<DecoderLayer> decoder = language.layers();
    SortedMap<Integer, NDArray> averaged = new TreeMap<>();
    SortedMap<Integer, NDArray> raw = new TreeMap<>();
    List<NDArray> states = new ArrayList<>();
    NDArray logits;
    boolean padded = AttentionMasks.isPadded(lengths, len);
    // per-length constants come from the model's cache, made outside this pass's scope
    RotaryEmbedding.Tables rope =
        constants != null ? constants.rope(len) : language.rotary().tables(manager, 0, len);
    NDArray cachedMask = constants != null && !padded ? constants.causal(len) : null;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray hidden = inputEmbeddings(store, batch, training);
      NDArray mask =
          cachedMask != null ? cachedMask : AttentionMasks.causalPadded(manager, lengths, len);
      if (hiddenStates) {
        states.add(hidden);
      }
      // without logits or hidden states, nothing above the deepest requested layer is read
      boolean whole = withLogits || hiddenStates || layers.isEmpty();
      int end = whole ? decoder.size() : layers.last() + 1;
      for (int i = 0; i < end; i++) {
        boolean wanted = layers.contains(i);
        NDArray[] result = decoder.get(i).apply(store, hidden, rope, mask, wanted, null, training);
        if (wanted) {
          averaged.put(i, HeadAverage.of(result[1]));
          if (perHead) {
            raw.put(i, result[1]);
          } else {
            result[1].close();
          }
        }
        if (!hiddenStates) {
          hidden.close();
        }
        hidden = result[0];
        if (hiddenStates && i < decoder.size() - 1) {
          states.add(hidden);
        }
      }
      if (whole) {
        NDArray normed = language.finalNorm(store, hidden, training);
        if (hiddenStates) {
          states.add(normed);
        }
        logits = withLogits ? language.head(store, normed, training) : null;
      } else {
        logits = null;
      }
      if (logits != null) {
        keep(logits);
      }
      averaged.values().forEach(InternVlBlock::keep);
      raw.values().forEach(InternVlBlock::keep);
      states.forEach(InternVlBlock::keep);
    }
    List<NDArray> outputs = new ArrayList<>();
    if (logits != null) {
      outputs.add(logits);
    }
    outputs.addAll(averaged.values());
    outputs.addAll(raw.values());
    outputs.addAll(states);
    for (NDArray array : outputs) {
      escape(array);
      array.attach(manager);
    }
    return new Pass(logits, averaged, raw, states);
  }

  /**
   * Runs the decoder on {@code embeds} ({@code [1, T, D]}) at positions {@code start .. start+T-1},
   * appending to {@code cache}, and returns the next-token logits of the last position ({@code
   * [V]}, registered in the caller's scope).
   */
  NDArray nextTokenLogits(ParameterStore store, NDArray embeds, int start, KvCache cache) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDManager manager = embeds.getManager();
      int count = (int) embeds.getShape().get(1);
      RotaryEmbedding.Tables rope = language.rotary().tables(manager, start, count);
      NDArray mask = count == 1 ? null : AttentionMasks.causalFrom(manager, start, count);
      NDArray hidden = embeds;
      for (DecoderLayer layer : language.layers()) {
        hidden = layer.apply(store, hidden, rope, mask, false, cache, false)[0];
      }
      NDArray last = hidden.get(":, " + (count - 1) + ":, :");
      out = language.logits(store, last, false).reshape(-1);
      keep(out);
    }
    escape(out);
    return out;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    // inputs: input ids [B, L] int64, then optionally an image mask [B, L] (boolean) and pixel
    // values [N, 3, S, S]; no padding. Returns the logits [B, L, V].
    NDArray ids = inputs.get(0);
    int b = (int) ids.getShape().get(0);
    int len = (int) ids.getShape().get(1);
    boolean[][] image = new boolean[b][len];
    NDArray pixels = null;
    if (inputs.size() > 1) {
      boolean[] flat = inputs.get(1).toBooleanArray();
      for (int s = 0; s < b; s++) {
        System.arraycopy(flat, s * len, image[s], 0, len);
      }
      pixels = inputs.size() > 2 ? inputs.get(2) : null;
    }
    int[] lengths = new int[b];
    java.util.Arrays.fill(lengths, len);
    TokenLayout layout = TokenLayout.of(image, new boolean[b][len], lengths);
    VlmBatch batch = new VlmBatch(ids, pixels, layout);
    return new NDList(
        run(store, batch, new TreeSet<>(), false, false, true, training, null).logits());
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape ids = inputShapes[0];
    return new Shape[] {new Shape(ids.get(0), ids.get(1), config.language().vocabSize())};
  }
}
