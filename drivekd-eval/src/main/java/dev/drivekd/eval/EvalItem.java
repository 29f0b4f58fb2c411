package dev.drivekd.eval;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One question to answer and score: the sample the model is prompted with, and what scoring needs
 * beyond it.
 *
 * @param id stable across reruns of the same data (answers are stored and reused by it)
 * @param sample the prompt's question, images and reference answer
 * @param questionType the data's question type (DriveBench's {@code perception}, {@code
 *     prediction}, {@code planning}, {@code behavior}, or the training format's raw type)
 * @param form multiple choice, yes/no or open
 * @param objectDescription what the question's object looks like, for the judge; null if unknown
 */
public record EvalItem(
    String id,
    DrivingSample sample,
    String questionType,
    QuestionForm form,
    String objectDescription) {

  /** Checks the required fields. */
  public EvalItem {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(sample, "sample");
    Objects.requireNonNull(form, "form");
  }

  /** The capability the question is scored under. */
  public Capability capability() {
    return sample.capability();
  }

  /** The reference answer. */
  public String reference() {
    return sample.answer();
  }

  /**
   * The items of a training-format dataset: ids {@code <file name>#<record index>}, the form
   * inferred from question and reference ({@link QuestionForm#infer}), no object description.
   */
  public static List<EvalItem> of(DrivingDataset dataset) {
    List<EvalItem> items = new ArrayList<>(dataset.size());
    for (DrivingSample s : dataset.samples()) {
      String file = s.sourceFile() == null ? "data" : s.sourceFile().getFileName().toString();
      items.add(
          new EvalItem(
              file + "#" + s.recordIndex(),
              s,
              s.rawQuestionType(),
              QuestionForm.infer(s.question(), s.answer()),
              null));
    }
    return items;
  }
}
