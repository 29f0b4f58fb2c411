package dev.drivekd.eval.score;

/** The scores an evaluation reports, with their JSON keys and scales. */
public enum Metric {
  /** Multiple choice, DriveBench's naive letter rule on answer and reference (percent). */
  MCQ_ACCURACY_DRIVEBENCH("mcq_accuracy_drivebench", "MCQ accuracy, DriveBench rule (%)"),
  /** Multiple choice, drivekd's robust extractor on answer and reference (percent). */
  MCQ_ACCURACY("mcq_accuracy", "MCQ accuracy, robust extractor (%)"),
  /** Yes/no questions: the answer's yes or no agrees with the reference's (percent). */
  YES_NO_ACCURACY("yes_no_accuracy", "yes/no accuracy (%)"),
  /** Open questions: corpus BLEU-4 on 13a tokens (0-1). */
  BLEU4("bleu4", "BLEU-4"),
  /** Open questions: mean ROUGE-L F-measure on rouge-score tokens (0-1). */
  ROUGE_L("rouge_l", "ROUGE-L"),
  /** Open questions: mean CIDEr-D on COCO-style tokens (0-10, the toolkit's scale). */
  CIDER_D("cider_d", "CIDEr-D"),
  /** Judged questions: mean judge total (0-100), replies without a score left out and counted. */
  JUDGE_SCORE("judge_score", "judge score (0-100)");

  private final String key;
  private final String label;

  Metric(String key, String label) {
    this.key = key;
    this.label = label;
  }

  /** The JSON key. */
  public String key() {
    return key;
  }

  /** A label for tables and charts. */
  public String label() {
    return label;
  }
}
