package dev.drivekd.eval.answer;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.EvalItem;
import dev.drivekd.eval.QuestionForm;

/**
 * One stored answer: a line of the answers file.
 *
 * @param id the item's id
 * @param capability the capability it is scored under
 * @param questionType the data's question type
 * @param form multiple choice, yes/no or open
 * @param question the question as written in the data
 * @param reference the reference answer
 * @param answer the model's answer
 * @param newTokens tokens produced
 * @param stopped whether the answer ended its turn (false: cut at the length limit)
 * @param seconds time to produce it
 */
public record AnswerRecord(
    String id,
    Capability capability,
    String questionType,
    QuestionForm form,
    String question,
    String reference,
    String answer,
    int newTokens,
    boolean stopped,
    double seconds) {

  /** The record of {@code item} answered with {@code a}. */
  public static AnswerRecord of(EvalItem item, GeneratedAnswer a) {
    return new AnswerRecord(
        item.id(),
        item.capability(),
        item.questionType(),
        item.form(),
        item.sample().question(),
        item.reference(),
        a.text(),
        a.newTokens(),
        a.stopped(),
        a.seconds());
  }
}
