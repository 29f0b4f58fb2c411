package dev.drivekd.eval.score;

import dev.drivekd.eval.McqOption;
import dev.drivekd.eval.QuestionForm;
import dev.drivekd.eval.answer.AnswerRecord;
import dev.drivekd.eval.metrics.Bleu;
import dev.drivekd.eval.metrics.MetricTokens;
import dev.drivekd.eval.metrics.RougeL;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What one answer earns before any averaging: the option each rule reads (multiple choice), the
 * yes/no agreement, the BLEU counts and ROUGE-L of an open answer. CIDEr-D and the judge need the
 * whole set and are added by {@link Scoreboard}.
 *
 * @param answer the stored answer
 * @param driveBenchCorrect DriveBench's rule reads the same option from answer and reference
 * @param robustCorrect the robust extractor reads the reference's option from the answer
 * @param robustOption the option the robust extractor reads from the answer, if any
 * @param yesNoCorrect the answer opens with the reference's yes or no
 * @param bleu BLEU counts (open questions), or null
 * @param rougeL ROUGE-L F (open questions), NaN otherwise
 */
public record ItemScore(
    AnswerRecord answer,
    boolean driveBenchCorrect,
    boolean robustCorrect,
    Optional<Character> robustOption,
    boolean yesNoCorrect,
    Bleu.Stats bleu,
    double rougeL) {

  /** Scores one answer. */
  public static ItemScore of(AnswerRecord a) {
    boolean naive = false;
    boolean robust = false;
    Optional<Character> option = Optional.empty();
    boolean yesNo = false;
    Bleu.Stats bleu = null;
    double rouge = Double.NaN;
    switch (a.form()) {
      case MULTIPLE_CHOICE -> {
        Optional<Character> want = McqOption.of(a.reference(), McqOption.Rule.DRIVEBENCH);
        naive =
            want.isPresent() && want.equals(McqOption.of(a.answer(), McqOption.Rule.DRIVEBENCH));
        Optional<Character> expected = McqOption.robust(a.reference(), a.question());
        option = McqOption.robust(a.answer(), a.question());
        robust = expected.isPresent() && expected.equals(option);
      }
      case YES_NO -> {
        Optional<Boolean> want = yesOrNo(a.reference());
        yesNo = want.isPresent() && want.equals(yesOrNo(a.answer()));
      }
      case OPEN -> {
        bleu =
            Bleu.stats(
                MetricTokens.mteval13a(a.answer()), List.of(MetricTokens.mteval13a(a.reference())));
        rouge = RougeL.of(MetricTokens.rouge(a.answer()), MetricTokens.rouge(a.reference())).f();
      }
    }
    return new ItemScore(a, naive, robust, option, yesNo, bleu, rouge);
  }

  /** Yes or no, read from the first word of a text; empty when it opens with neither. */
  static Optional<Boolean> yesOrNo(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.matches("yes\\b.*")) {
      return Optional.of(true);
    }
    if (t.matches("no\\b.*")) {
      return Optional.of(false);
    }
    return Optional.empty();
  }

  /** Whether this is an open question's answer. */
  public boolean open() {
    return answer.form() == QuestionForm.OPEN;
  }
}
