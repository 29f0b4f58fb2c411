package dev.drivekd.eval.judge;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.QuestionForm;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The five kinds of DriveBench question a judge scores, each with its 100-point rubric (method.md
 * 7). The criteria and points are DriveBench's; the wording of each criterion is drivekd's.
 */
public enum JudgeTask {
  /** Perception, multiple choice: the option first, then what the explanation shows. */
  PERCEPTION_MCQ(
      "a multiple-choice perception question about one object",
      List.of(
          new Criterion(
              "Answer Correctness",
              50,
              "50 if the chosen option is exactly the reference option, else 0"),
          new Criterion("Object Recognition", 10, "the object is recognised as what it is"),
          new Criterion(
              "Object Location & Orientation",
              15,
              "where the object is and which way it faces or moves"),
          new Criterion(
              "Environmental Condition Awareness",
              15,
              "road, traffic and weather conditions that matter"),
          new Criterion("Clarity of Reasoning", 10, "the explanation is clear and consistent")),
      "Criteria 2 to 5 score 0 when the answer gives no explanation."),
  /** Perception, open-ended. */
  PERCEPTION_VQA(
      "an open-ended perception question",
      List.of(
          new Criterion("Action Alignment", 20, "the objects' actions agree with the reference"),
          new Criterion("Motion Precision", 20, "motion is described precisely"),
          new Criterion("Driving Context", 15, "the answer fits the driving situation"),
          new Criterion("Situational Awareness", 15, "what matters for the ego vehicle is noticed"),
          new Criterion("Conciseness & Clarity", 20, "short and clear"),
          new Criterion("Grammar", 10, "grammatical")),
      ""),
  /** Prediction, open-ended (a reasoning question in Drive-KD). */
  PREDICTION_VQA(
      "an open-ended prediction question about the objects that matter",
      List.of(
          new Criterion(
              "Object Identification & Priority Order",
              20,
              "the right objects, in the reference's order of priority"),
          new Criterion(
              "Category & Visual Description", 20, "each object's category and appearance"),
          new Criterion("State of Object", 15, "what each object is doing"),
          new Criterion("Recommended Ego Action", 15, "what the ego vehicle should do about them"),
          new Criterion("Logical Flow", 20, "the reasoning follows"),
          new Criterion("Clarity & Grammar", 10, "clear and grammatical")),
      ""),
  /** Behavior, multiple choice (a reasoning question in Drive-KD). */
  BEHAVIOR_MCQ(
      "a multiple-choice question about the ego vehicle's behaviour",
      List.of(
          new Criterion(
              "Answer Correctness",
              50,
              "50 if the chosen option is exactly the reference option, else 0"),
          new Criterion(
              "Behavioral Understanding", 15, "the ego vehicle's behaviour is understood"),
          new Criterion("Reasoning & Justification", 15, "the choice is justified"),
          new Criterion("Contextual Relevance", 10, "the justification uses the scene"),
          new Criterion("Clarity & Grammar", 10, "clear and grammatical")),
      ""),
  /** Planning, open-ended. */
  PLANNING_VQA(
      "a planning question about the ego vehicle's actions",
      List.of(
          new Criterion("Action Prediction Accuracy", 40, "the actions agree with the reference"),
          new Criterion("Reasoning & Justification", 20, "the actions are justified"),
          new Criterion(
              "Probability/Confidence", 15, "likelihoods or confidence are stated sensibly"),
          new Criterion(
              "Contextual Awareness & Safety", 15, "the scene and safety are taken into account"),
          new Criterion("Conciseness & Clarity", 10, "short and clear")),
      "");

  /**
   * One rubric line.
   *
   * @param name the criterion
   * @param points its maximum
   * @param meaning what earns the points
   */
  public record Criterion(String name, int points, String meaning) {}

  private final String description;
  private final List<Criterion> criteria;
  private final String note;

  JudgeTask(String description, List<Criterion> criteria, String note) {
    this.description = description;
    this.criteria = criteria;
    this.note = note;
  }

  /** What kind of question this is, in words. */
  public String description() {
    return description;
  }

  /** The rubric, whose points add up to 100. */
  public List<Criterion> criteria() {
    return criteria;
  }

  /** A rule beyond the criteria, or empty. */
  public String note() {
    return note;
  }

  /**
   * The task that scores a question, as DriveBench routes it: by its question type where it is one
   * of DriveBench's ({@code perception}, {@code prediction}, {@code planning}, {@code behavior}),
   * else by the capability; then by the question's form. Yes/no questions are not judged
   * (DriveBench skips its yes/no prediction questions): they are scored by exact yes/no agreement
   * instead.
   *
   * @param questionType the raw question type, may be null
   * @param capability the capability the question was assigned to
   * @param form the question's form
   * @return the task, or empty for a question the judge does not score
   */
  public static Optional<JudgeTask> of(
      String questionType, Capability capability, QuestionForm form) {
    if (form == QuestionForm.YES_NO) {
      return Optional.empty();
    }
    boolean choice = form == QuestionForm.MULTIPLE_CHOICE;
    String type = questionType == null ? "" : questionType.strip().toLowerCase(Locale.ROOT);
    JudgeTask task =
        switch (type) {
          case "perception" -> choice ? PERCEPTION_MCQ : PERCEPTION_VQA;
          case "prediction" -> PREDICTION_VQA;
          case "behavior", "behaviour" -> BEHAVIOR_MCQ;
          case "planning" -> PLANNING_VQA;
          default ->
              switch (capability) {
                case PERCEPTION -> choice ? PERCEPTION_MCQ : PERCEPTION_VQA;
                case REASONING -> choice ? BEHAVIOR_MCQ : PREDICTION_VQA;
                case PLANNING -> PLANNING_VQA;
              };
        };
    return Optional.of(task);
  }
}
