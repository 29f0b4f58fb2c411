package dev.drivekd.eval;

import java.util.Locale;

/** How a question expects its answer: an option letter, yes or no, or free text. */
public enum QuestionForm {
  /** The question lists options A-D; the answer names one. */
  MULTIPLE_CHOICE,
  /** A closed question answered "Yes." or "No.". */
  YES_NO,
  /** Free text, scored by the judge and language metrics. */
  OPEN;

  /**
   * The form of a training-format record: options listed in the question make it multiple choice, a
   * reference that is "yes" or "no" (optionally followed by an explanation) yes/no, anything else
   * open.
   */
  public static QuestionForm infer(String question, String reference) {
    if (McqOption.isMultipleChoice(question)) {
      return MULTIPLE_CHOICE;
    }
    String r = reference.strip().toLowerCase(Locale.ROOT);
    if (r.matches("(yes|no)\\b.*")) {
      return YES_NO;
    }
    return OPEN;
  }
}
