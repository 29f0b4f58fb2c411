package dev.drivekd.eval.answer;

import dev.drivekd.core.progress.ConsoleProgress;
import dev.drivekd.eval.EvalItem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every item with a model and keeps the answers in an {@link AnswerFile}: answers stored
 * for the same model fingerprint and data fingerprint are reused, the rest are generated (one item
 * at a time: the native model's cached decoding takes one unpadded prompt) and appended as they
 * come, with a progress bar. A run that is interrupted continues where it stopped.
 */
public final class AnswerGeneration {

  private static final Logger LOG = LoggerFactory.getLogger(AnswerGeneration.class);

  private AnswerGeneration() {}

  /**
   * What a run produced.
   *
   * @param answers one per item, in the items' order
   * @param reused how many came from the file
   * @param generated how many were generated now
   * @param header the file's header (model and data fingerprints)
   */
  public record Result(
      List<AnswerRecord> answers, int reused, int generated, AnswerFile.Header header) {}

  /**
   * The answers of {@code answerer} to {@code items}, stored in {@code file}.
   *
   * @throws IllegalArgumentException when there is no item, two items share an id, or the model's
   *     tokenizer cannot read the questions ({@link TokenizerCoverage})
   */
  public static Result run(List<EvalItem> items, Answerer answerer, Path file) {
    if (items.isEmpty()) {
      throw new IllegalArgumentException("nothing to answer: the evaluation set is empty");
    }
    Set<String> ids = new HashSet<>();
    for (EvalItem item : items) {
      if (!ids.add(item.id())) {
        throw new IllegalArgumentException("two items share the id " + item.id());
      }
    }
    TokenizerCoverage.check(answerer.modelName(), answerer.tokenizer(), items);
    AnswerFile.Header header =
        new AnswerFile.Header(
            answerer.modelName(), answerer.fingerprint(), ItemsFingerprint.of(items));
    Map<String, AnswerRecord> stored = AnswerFile.stored(file, header);
    List<AnswerRecord> kept = new ArrayList<>();
    for (EvalItem item : items) {
      AnswerRecord r = stored.get(item.id());
      if (r != null) {
        kept.add(r);
      }
    }
    if (!kept.isEmpty()) {
      LOG.info(
          "{}: reusing {} of {} stored answers of {}",
          file,
          kept.size(),
          items.size(),
          header.model());
    }
    List<AnswerRecord> answers = new ArrayList<>(items.size());
    int generated = 0;
    try (AnswerFile out = AnswerFile.open(file, header, kept);
        ConsoleProgress progress =
            ConsoleProgress.onStderr("answers of " + header.model(), items.size(), kept.size())) {
      int done = kept.size();
      for (EvalItem item : items) {
        AnswerRecord r = stored.get(item.id());
        if (r == null) {
          r = AnswerRecord.of(item, answerer.answer(item.sample()));
          out.append(r);
          generated++;
          progress.update(++done);
        }
        answers.add(r);
      }
    }
    return new Result(answers, kept.size(), generated, header);
  }
}
