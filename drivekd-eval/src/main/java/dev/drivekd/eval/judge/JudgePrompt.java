package dev.drivekd.eval.judge;

import java.util.Objects;

/**
 * What a judge is asked about one answer: a system message and a user message. Prompts are
 * compared, cached and logged by content only; no key or endpoint is part of them.
 *
 * @param task the rubric the prompt applies
 * @param system the system message
 * @param user the user message (rubric, question, reference, answer)
 */
public record JudgePrompt(JudgeTask task, String system, String user) {

  /** Checks that nothing is null. */
  public JudgePrompt {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(user, "user");
  }

  /** The system message every rubric prompt uses. */
  static final String SYSTEM =
      "You grade answers to questions about driving scenes by how closely they agree with a"
          + " reference answer. You follow the rubric you are given exactly.";

  /**
   * The rubric prompt of one answer.
   *
   * @param task the rubric
   * @param question the question as the model saw it (image placeholders are fine)
   * @param reference the reference answer
   * @param answer the model's answer
   * @param objectDescription what the question's object looks like, or null when unknown
   */
  public static JudgePrompt of(
      JudgeTask task, String question, String reference, String answer, String objectDescription) {
    StringBuilder u = new StringBuilder();
    u.append("Grade a model's answer to ").append(task.description()).append(".\n\n");
    u.append("Rubric (").append(total(task)).append(" points in all):\n");
    int n = 1;
    for (JudgeTask.Criterion c : task.criteria()) {
      u.append(n++)
          .append(". ")
          .append(c.name())
          .append(" (")
          .append(c.points())
          .append(" points): ")
          .append(c.meaning())
          .append(".\n");
    }
    if (!task.note().isEmpty()) {
      u.append(task.note()).append('\n');
    }
    u.append("\nQuestion:\n").append(question.strip()).append("\n\n");
    u.append("Reference answer:\n").append(reference.strip()).append("\n\n");
    if (objectDescription != null && !objectDescription.isBlank()) {
      u.append("What the object in question looks like:\n")
          .append(objectDescription.strip())
          .append("\n\n");
    }
    u.append("Model's answer:\n").append(answer.strip()).append("\n\n");
    u.append("Give each criterion's points with one sentence of justification, then end with one")
        .append(" line of the form\nTotal Score: N\nwhere N is the sum, an integer from 0 to 100.");
    return new JudgePrompt(task, SYSTEM, u.toString());
  }

  private static int total(JudgeTask task) {
    return task.criteria().stream().mapToInt(JudgeTask.Criterion::points).sum();
  }
}
