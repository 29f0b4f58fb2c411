package dev.drivekd.eval.answer;

import ai.djl.ndarray.NDManager;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.text.Tokenizer;
import java.util.List;
import java.util.OptionalLong;

/**
 * The part every greedy answerer shares: encode the sample's open-ended prompt, decode over the ids
 * the tokenizer knows until the end of the turn or the length limit, and turn the tokens into an
 * answer.
 */
public final class GreedyDecoding {

  /** A way to decode greedily. */
  @FunctionalInterface
  public interface Decoder {
    /**
     * The new tokens.
     *
     * @param prompt one unpadded prompt
     * @param maxNewTokens at most this many
     * @param stop the end-of-turn id, kept as the last token when produced
     * @param vocabulary ids {@code 0 .. vocabulary-1} are candidates
     */
    long[] decode(VlmBatch prompt, int maxNewTokens, OptionalLong stop, int vocabulary);
  }

  private GreedyDecoding() {}

  /** The answer of a model of {@code card} to {@code sample}, decoded by {@code decoder}. */
  public static GeneratedAnswer answer(
      ModelCard card,
      ai.djl.Device device,
      BatchEncoder encoder,
      DrivingSample sample,
      int maxNewTokens,
      Decoder decoder) {
    long start = System.nanoTime();
    Tokenizer tokenizer = encoder.tokenizer();
    OptionalLong stop = tokenizer.endOfTurnId();
    int vocabulary = Math.min(tokenizer.vocabularySize(), card.vocabularySize());
    try (NDManager manager = NDManager.newBaseManager(device)) {
      VlmBatch prompt =
          encoder.encodeSamples(manager, List.of(sample), BatchEncoder.PromptMode.OPEN_ENDED);
      long[] tokens = decoder.decode(prompt, maxNewTokens, stop, vocabulary);
      boolean stopped =
          tokens.length > 0 && stop.isPresent() && tokens[tokens.length - 1] == stop.getAsLong();
      return new GeneratedAnswer(
          tokenizer.decode(tokens).trim(),
          tokens.length,
          stopped,
          (System.nanoTime() - start) / 1e9);
    }
  }
}
