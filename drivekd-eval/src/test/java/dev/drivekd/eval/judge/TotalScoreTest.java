package dev.drivekd.eval.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.QuestionForm;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TotalScoreTest {

  @Test
  void readsTheLastTotalScoreLineStrictly() {
    assertEquals(OptionalInt.of(85), TotalScore.parse("1. Correctness: 50\nTotal Score: 85"));
    assertEquals(OptionalInt.of(0), TotalScore.parse("Total Score: 0"));
    assertEquals(OptionalInt.of(100), TotalScore.parse("total score:100."));
    assertEquals(OptionalInt.of(85), TotalScore.parse("**Total Score: 85/100**"));
    // the format restated before the grading: the last line counts
    assertEquals(
        OptionalInt.of(40), TotalScore.parse("End with Total Score: N\n...\nTotal Score: 40"));
    assertEquals(OptionalInt.empty(), TotalScore.parse("Total Score: eighty"));
    assertEquals(OptionalInt.empty(), TotalScore.parse("Total Score: 101"));
    assertEquals(OptionalInt.empty(), TotalScore.parse("Total Score: 7.5"));
    assertEquals(OptionalInt.empty(), TotalScore.parse("Total Score: 60 or 70"));
    assertEquals(OptionalInt.empty(), TotalScore.parse("I would give it 80."));
    assertEquals(OptionalInt.empty(), TotalScore.parse(""));
  }

  @Test
  void everyRubricAddsUpTo100AndThePromptCarriesIt() {
    for (JudgeTask task : JudgeTask.values()) {
      assertEquals(
          100, task.criteria().stream().mapToInt(JudgeTask.Criterion::points).sum(), task.name());
    }
    JudgePrompt p =
        JudgePrompt.of(
            JudgeTask.PERCEPTION_MCQ,
            "Moving status? A. Going ahead. B. Stopped.",
            "A",
            "B",
            "a red car");
    assertTrue(p.user().contains("Answer Correctness (50 points)"), p.user());
    assertTrue(p.user().contains("Criteria 2 to 5 score 0"));
    assertTrue(p.user().contains("a red car"));
    assertTrue(p.user().endsWith("an integer from 0 to 100."));
  }

  @Test
  void questionsAreRoutedAsDriveBenchRoutesThem() {
    assertEquals(
        Optional.of(JudgeTask.PERCEPTION_MCQ),
        JudgeTask.of("perception", Capability.PERCEPTION, QuestionForm.MULTIPLE_CHOICE));
    assertEquals(
        Optional.of(JudgeTask.PERCEPTION_VQA),
        JudgeTask.of("perception", Capability.PERCEPTION, QuestionForm.OPEN));
    assertEquals(
        Optional.of(JudgeTask.PREDICTION_VQA),
        JudgeTask.of("prediction", Capability.REASONING, QuestionForm.OPEN));
    assertEquals(
        Optional.of(JudgeTask.BEHAVIOR_MCQ),
        JudgeTask.of("behavior", Capability.REASONING, QuestionForm.MULTIPLE_CHOICE));
    assertEquals(
        Optional.of(JudgeTask.PLANNING_VQA),
        JudgeTask.of("planning", Capability.PLANNING, QuestionForm.OPEN));
    assertEquals(
        Optional.empty(), JudgeTask.of("prediction", Capability.REASONING, QuestionForm.YES_NO));
    // not a DriveBench type: the capability decides
    assertEquals(
        Optional.of(JudgeTask.BEHAVIOR_MCQ),
        JudgeTask.of("2", Capability.REASONING, QuestionForm.MULTIPLE_CHOICE));
  }
}
