package dev.drivekd.eval.answer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.text.Tokenizer;
import dev.drivekd.eval.GreedyAnswers;
import dev.drivekd.teachers.cache.WeightsFingerprint;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * Greedy answers of any {@link VisionLanguageModel} (a TorchScript import included) without a
 * key/value cache: every new token runs the whole sequence again. It is the road for models that
 * offer no cached decoding, and the baseline the cache is measured against ({@code bench eval}).
 */
public final class RecomputingAnswerer implements Answerer {

  private final VisionLanguageModel model;
  private final BatchEncoder encoder;
  private final int maxNewTokens;
  private final String fingerprint;

  /**
   * Answers of {@code model}, prompts made by {@code encoder}, at most {@code maxNewTokens} each.
   */
  public RecomputingAnswerer(VisionLanguageModel model, BatchEncoder encoder, int maxNewTokens) {
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
    }
    this.model = model;
    this.encoder = encoder;
    this.maxNewTokens = maxNewTokens;
    this.fingerprint =
        GreedyAnswers.fingerprint(
            WeightsFingerprint.of(model), encoder.tokenizer(), "greedy", maxNewTokens);
  }

  @Override
  public String modelName() {
    return model.card().name();
  }

  @Override
  public Tokenizer tokenizer() {
    return encoder.tokenizer();
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public GeneratedAnswer answer(DrivingSample sample) {
    return GreedyDecoding.answer(
        model.card(),
        model.device(),
        encoder,
        sample,
        maxNewTokens,
        (prompt, n, stop, vocabulary) -> generate(model, prompt, n, stop, vocabulary));
  }

  /**
   * Greedy decoding by running the whole sequence again for every new token.
   *
   * @param prompt one unpadded prompt ({@code B = 1}) with its images
   * @param maxNewTokens how many tokens at most
   * @param stop a token that ends decoding (kept as the last token), or empty
   * @param vocabulary ids {@code 0 .. vocabulary-1} are candidates
   * @return the new tokens
   */
  public static long[] generate(
      VisionLanguageModel model,
      VlmBatch prompt,
      int maxNewTokens,
      OptionalLong stop,
      int vocabulary) {
    if (prompt.batchSize() != 1 || prompt.layout().length(0) != prompt.length()) {
      throw new IllegalArgumentException("decoding takes one unpadded prompt (B = 1)");
    }
    int length = prompt.length();
    long[] ids = Arrays.copyOf(prompt.inputIds().toLongArray(), length + maxNewTokens);
    boolean[] image = new boolean[length + maxNewTokens];
    for (int i = 0; i < length; i++) {
      image[i] = prompt.layout().isImage(0, i);
    }
    int produced = 0;
    while (produced < maxNewTokens) {
      int l = length + produced;
      long token;
      try (NDManager step = prompt.manager().newSubManager()) {
        VlmBatch batch =
            new VlmBatch(
                step.create(Arrays.copyOf(ids, l), new Shape(1, l)),
                prompt.pixelValues(),
                TokenLayout.of(
                    new boolean[][] {Arrays.copyOf(image, l)}, new boolean[1][l], new int[] {l}));
        ModelOutput out = model.forward(batch, ForwardRequest.logitsOnly(), false);
        NDArray last = out.logits().get(new NDIndex(0, l - 1)).get("0:" + vocabulary);
        token = last.argMax().getLong();
      }
      ids[l] = token;
      produced++;
      if (stop.isPresent() && stop.getAsLong() == token) {
        break;
      }
    }
    return Arrays.copyOfRange(ids, length, length + produced);
  }
}
