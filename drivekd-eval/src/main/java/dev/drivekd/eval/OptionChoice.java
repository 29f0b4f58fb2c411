package dev.drivekd.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.TextBlock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The option a model picks for a multiple-choice question when its answer is held to the data's
 * format: the open-ended prompt followed by the answer's start {@code Final: {}, and the option
 * letter the model ranks first among the question's letters at the next position. One forward
 * per question, no decoding: the standard way to score multiple choice when a small model has not
 * yet learned to produce the whole answer (lm-evaluation-harness scores by likelihood in the same
 * spirit), and the same for every model compared.
 */
public final class OptionChoice {

  /** The answer's start, as the data writes it ({@code Final: {B. Blue.}}). */
  public static final String ANSWER_START = "Final: {";

  private static final Pattern OPTION = Pattern.compile("(?:^|\\s)([A-D])\\.\\s");

  private final VisionLanguageModel model;
  private final BatchEncoder encoder;
  private final Path dataRoot;
  private final long[] letterIds;

  /**
   * A chooser for {@code model}.
   *
   * @param encoder the model's encoder (its tokenizer must know the letters A to D)
   * @param dataRoot the folder the samples' image paths are relative to
   */
  public OptionChoice(VisionLanguageModel model, BatchEncoder encoder, Path dataRoot) {
    this.model = model;
    this.encoder = encoder;
    this.dataRoot = dataRoot;
    this.letterIds = new long[4];
    for (int k = 0; k < 4; k++) {
      String letter = String.valueOf((char) ('A' + k));
      long[] ids = encoder.tokenizer().encode(letter);
      if (ids.length != 1) {
        throw new IllegalArgumentException(
            "the tokenizer splits the option letter " + letter + " into " + ids.length + " tokens");
      }
      letterIds[k] = ids[0];
    }
  }

  /** The letters a question offers ({@code A. ... B. ...}), 2 to 4; 0 when it has none. */
  public static int optionCount(String question) {
    Matcher m = OPTION.matcher(question);
    int count = 0;
    while (m.find()) {
      if (m.group(1).charAt(0) == 'A' + count) {
        count++;
      }
    }
    return count < 2 ? 0 : count;
  }

  /**
   * The chosen letter of every sample, in order, computed {@code batchSize} samples per forward;
   * samples without options get {@code '-'}.
   */
  public char[] choose(List<DrivingSample> samples, int batchSize) {
    char[] out = new char[samples.size()];
    for (int from = 0; from < samples.size(); from += batchSize) {
      List<DrivingSample> part = samples.subList(from, Math.min(samples.size(), from + batchSize));
      char[] chosen = chooseBatch(part);
      System.arraycopy(chosen, 0, out, from, chosen.length);
    }
    return out;
  }

  private char[] chooseBatch(List<DrivingSample> samples) {
    List<List<ContentBlock>> prompts = new ArrayList<>();
    for (DrivingSample s : samples) {
      List<ContentBlock> blocks = new ArrayList<>(s.openEndedPrompt());
      blocks.add(new TextBlock(ANSWER_START, false));
      prompts.add(blocks);
    }
    char[] out = new char[samples.size()];
    try (NDManager manager = NDManager.newBaseManager(model.device())) {
      VlmBatch batch = encoder.encode(manager, prompts, dataRoot);
      NDArray logits = model.forward(batch, ForwardRequest.logitsOnly(), false).logits();
      for (int b = 0; b < samples.size(); b++) {
        int options = optionCount(samples.get(b).question());
        if (options == 0) {
          out[b] = '-';
          continue;
        }
        int last = batch.layout().length(b) - 1;
        float[] row = logits.get(new NDIndex("{}, {}", b, last)).toFloatArray();
        int best = 0;
        for (int k = 1; k < options; k++) {
          if (row[(int) letterIds[k]] > row[(int) letterIds[best]]) {
            best = k;
          }
        }
        out[b] = (char) ('A' + best);
      }
    }
    return out;
  }
}
