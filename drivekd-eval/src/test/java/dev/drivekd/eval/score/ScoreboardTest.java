package dev.drivekd.eval.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.QuestionForm;
import dev.drivekd.eval.answer.AnswerRecord;
import dev.drivekd.eval.judge.JudgeVerdict;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ScoreboardTest {

  private static final String MCQ =
      "What is the moving status of object <c1,CAM_FRONT,0.5,0.5>? Please select the correct"
          + " answer from the following options: A. Going ahead. B. Turn left. C. Turn right.";

  private static AnswerRecord a(Capability c, QuestionForm form, String q, String ref, String ans) {
    return new AnswerRecord("id" + ans.hashCode(), c, null, form, q, ref, ans, 3, true, 0.1);
  }

  private static JudgeVerdict scored(int s) {
    return new JudgeVerdict(
        JudgeVerdict.Status.SCORED, OptionalInt.of(s), "Total Score: " + s, "", false, 1);
  }

  @Test
  void eachMetricCountsOnlyTheItemsItAppliesTo() {
    List<AnswerRecord> answers =
        List.of(
            // perception MCQ: the article fools DriveBench's rule, not the robust one
            a(
                Capability.PERCEPTION,
                QuestionForm.MULTIPLE_CHOICE,
                MCQ,
                "B",
                "It is a car turning left, B."),
            a(Capability.PERCEPTION, QuestionForm.MULTIPLE_CHOICE, MCQ, "C", "C. Turn right."),
            // reasoning yes/no and open
            a(
                Capability.REASONING,
                QuestionForm.YES_NO,
                "Is it a sign?",
                "No.",
                "No, it is a car."),
            a(
                Capability.REASONING,
                QuestionForm.OPEN,
                "What first?",
                "notice the red car",
                "notice the red car"),
            // planning open
            a(
                Capability.PLANNING,
                QuestionForm.OPEN,
                "Safe actions?",
                "keep going slowly",
                "stop now"));
    Scoreboard board = new Scoreboard(answers, null, new Bootstrap(200, 1));

    assertEquals(50.0, board.get(Metric.MCQ_ACCURACY_DRIVEBENCH, "perception").value(), 1e-12);
    assertEquals(100.0, board.get(Metric.MCQ_ACCURACY, "perception").value(), 1e-12);
    assertEquals(2, board.get(Metric.MCQ_ACCURACY, "perception").n());
    assertFalse(board.get(Metric.MCQ_ACCURACY, "reasoning").present());
    assertFalse(
        board.get(Metric.MCQ_ACCURACY, Scoreboard.OVERALL).present(),
        "not every capability has MCQ");
    assertEquals(100.0, board.get(Metric.YES_NO_ACCURACY, "reasoning").value(), 1e-12);
    // identical open answer: BLEU 1 (4 tokens, 1 four-gram) and ROUGE-L 1; disjoint one: 0
    assertEquals(1.0, board.get(Metric.BLEU4, "reasoning").value(), 1e-12);
    assertEquals(1.0, board.get(Metric.ROUGE_L, "reasoning").value(), 1e-12);
    assertEquals(0.0, board.get(Metric.ROUGE_L, "planning").value(), 1e-12);
    assertEquals(0.0, board.get(Metric.BLEU4, "planning").value(), 1e-12);
    assertTrue(
        board.get(Metric.CIDER_D, "reasoning").value()
            > board.get(Metric.CIDER_D, "planning").value());
    assertTrue(board.scores().get(Metric.JUDGE_SCORE) == null, "no judge, no judge score");
  }

  @Test
  void judgeScoresLeaveOutRepliesWithoutAScoreAndCountThemAndOverallIsTheMeanOfCapabilities() {
    List<AnswerRecord> answers = new ArrayList<>();
    List<JudgeVerdict> verdicts = new ArrayList<>();
    answers.add(a(Capability.PERCEPTION, QuestionForm.OPEN, "q", "r", "a1"));
    verdicts.add(scored(80));
    answers.add(a(Capability.PERCEPTION, QuestionForm.OPEN, "q", "r", "a2"));
    verdicts.add(
        new JudgeVerdict(
            JudgeVerdict.Status.UNPARSEABLE,
            OptionalInt.empty(),
            "Total Score: ten",
            "x",
            false,
            1));
    answers.add(a(Capability.REASONING, QuestionForm.OPEN, "q", "r", "a3"));
    verdicts.add(scored(40));
    answers.add(a(Capability.REASONING, QuestionForm.OPEN, "q", "r", "a4"));
    verdicts.add(scored(60));
    answers.add(a(Capability.PLANNING, QuestionForm.OPEN, "q", "r", "a5"));
    verdicts.add(
        new JudgeVerdict(
            JudgeVerdict.Status.FAILED, OptionalInt.empty(), "", "HTTP 503", false, 5));
    answers.add(a(Capability.PLANNING, QuestionForm.OPEN, "q", "r", "a6"));
    verdicts.add(scored(20));
    answers.add(a(Capability.PLANNING, QuestionForm.YES_NO, "q", "Yes.", "yes"));
    verdicts.add(null); // not judged
    Scoreboard board = new Scoreboard(answers, verdicts, new Bootstrap(200, 1));

    assertEquals(80, board.get(Metric.JUDGE_SCORE, "perception").value(), 1e-12);
    assertEquals(
        1, board.get(Metric.JUDGE_SCORE, "perception").n(), "the unparseable reply is not a 0");
    assertEquals(50, board.get(Metric.JUDGE_SCORE, "reasoning").value(), 1e-12);
    assertEquals(20, board.get(Metric.JUDGE_SCORE, "planning").value(), 1e-12);
    // the paper's Avg: mean of the three capability scores, not of the four items
    assertEquals(
        (80 + 50 + 20) / 3.0, board.get(Metric.JUDGE_SCORE, Scoreboard.OVERALL).value(), 1e-12);
    assertEquals(new Scoreboard.JudgeCounts(2, 1, 1, 0), board.judgeCounts().get("perception"));
    assertEquals(new Scoreboard.JudgeCounts(2, 1, 0, 1), board.judgeCounts().get("planning"));
    assertEquals(
        new Scoreboard.JudgeCounts(6, 4, 1, 1), board.judgeCounts().get(Scoreboard.OVERALL));
    Interval overall = board.get(Metric.JUDGE_SCORE, Scoreboard.OVERALL);
    assertTrue(overall.low() <= overall.value() && overall.value() <= overall.high());
  }
}
