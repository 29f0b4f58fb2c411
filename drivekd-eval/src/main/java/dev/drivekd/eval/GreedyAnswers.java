package dev.drivekd.eval;

import ai.djl.ndarray.NDManager;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.Tokenizer;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * A native model's greedy answers: the sample's open-ended prompt (user turn, then the assistant's
 * start), decoded with the key/value cache until the end of the turn or {@code maxTokens}, over the
 * ids the tokenizer knows (the LM head may have more rows).
 */
public final class GreedyAnswers implements Function<DrivingSample, String> {

  private final InternVlModel model;
  private final BatchEncoder encoder;
  private final Tokenizer tokenizer;
  private final int maxTokens;

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
    try (NDManager manager = NDManager.newBaseManager(model.device())) {
      VlmBatch prompt =
          encoder.encodeSamples(manager, List.of(sample), BatchEncoder.PromptMode.OPEN_ENDED);
      OptionalLong stop = tokenizer.endOfTurnId();
      int vocabulary = Math.min(tokenizer.vocabularySize(), model.card().vocabularySize());
      return tokenizer.decode(model.generate(prompt, maxTokens, stop, vocabulary)).trim();
    }
  }
}
