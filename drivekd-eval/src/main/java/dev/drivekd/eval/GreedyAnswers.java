package dev.drivekd.eval;

import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.Tokenizer;
import dev.drivekd.eval.answer.Answerer;
import dev.drivekd.eval.answer.GeneratedAnswer;
import dev.drivekd.eval.answer.GreedyDecoding;
import dev.drivekd.teachers.cache.WeightsFingerprint;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A native model's greedy answers: the sample's open-ended prompt (user turn, then the assistant's
 * start), decoded with the key/value cache until the end of the turn or {@code maxTokens}, over the
 * ids the tokenizer knows (the LM head may have more rows).
 */
public final class GreedyAnswers implements Function<DrivingSample, String>, Answerer {

  private final InternVlModel model;
  private final BatchEncoder encoder;
  private final Tokenizer tokenizer;
  private final int maxTokens;
  private String fingerprint;

  private GreedyAnswers(
      InternVlModel model, BatchEncoder encoder, Tokenizer tokenizer, int maxTokens) {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
    }
    this.model = model;
    this.encoder = encoder;
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
  }

  /** Answers of {@code model}, prompts made by {@code encoder}, decoded by its tokenizer. */
  public static GreedyAnswers of(InternVlModel model, BatchEncoder encoder, int maxTokens) {
    return new GreedyAnswers(model, encoder, encoder.tokenizer(), maxTokens);
  }

  /** The answer's text (empty when the first token ends the turn). */
  @Override
  public String apply(DrivingSample sample) {
    return answer(sample).text();
  }

  @Override
  public GeneratedAnswer answer(DrivingSample sample) {
    return GreedyDecoding.answer(
        model.card(), model.device(), encoder, sample, maxTokens, model::generate);
  }

  @Override
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public String modelName() {
    return model.card().name();
  }

  /** Computed once, on first use (hashing the weights reads all of them). */
  @Override
  public synchronized String fingerprint() {
    if (fingerprint == null) {
      fingerprint = fingerprint(WeightsFingerprint.of(model), tokenizer, "greedy", maxTokens);
    }
    return fingerprint;
  }

  /**
   * The answers' fingerprint: weights, tokenizer identity, decoding rule and length limit. Cached
   * and uncached greedy decoding of one model share it: they choose the same tokens.
   */
  public static String fingerprint(
      String weights, Tokenizer tokenizer, String decoding, int maxNewTokens) {
    String identity =
        "drivekd-answers/1\n"
            + weights
            + "\n"
            + tokenizer.identity()
            + "\n"
            + decoding
            + "\n"
            + maxNewTokens;
    return DataFingerprint.sha256(identity.getBytes(StandardCharsets.UTF_8));
  }
}
