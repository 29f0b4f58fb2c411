package dev.drivekd.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class McqAccuracyTest {

  @TempDir Path dir;

  private DrivingDataset dataset() {
    return SyntheticDrivingData.create(
        dir,
        List.of(
            new SyntheticDrivingData.Record(
                "perception",
                "What is the car doing? Options: A. Going ahead. B. Turn left.",
                "Final: {A. Going ahead.} It keeps its lane."),
            new SyntheticDrivingData.Record(
                "planning", "What should the ego car do next?", "Keep the lane."),
            new SyntheticDrivingData.Record(
                "reasoning",
                "Predict the behavior. A. Stop. B. Go straight. C. Turn right.",
                "Final: C. Turn right.")),
        24,
        7);
  }

  @Test
  void scoresOnlyMultipleChoiceSamplesUnderBothRules() {
    DrivingDataset data = dataset();
    Map<Integer, String> answers =
        Map.of(0, "Final: {B. Turn left.} a car turns", 2, "Final: C. Turn right.");
    List<McqAccuracy.Item> items =
        McqAccuracy.evaluate(data, null, s -> answers.get(s.recordIndex()));
    assertEquals(2, items.size(), "the open question is not multiple choice");
    McqAccuracy.Item first = items.get(0);
    assertEquals(0, first.index());
    assertEquals('A', first.expected());
    assertFalse(first.correct(), "answered B");
    assertTrue(first.correctByDriveBench(), "DriveBench reads the article 'a' as A");
    McqAccuracy.Item second = items.get(1);
    assertEquals(Capability.REASONING, second.capability());
    assertTrue(second.correct());
    assertTrue(second.correctByDriveBench());
    assertEquals(1, McqAccuracy.correct(items));
    assertEquals(1, McqAccuracy.evaluate(data, Capability.REASONING, s -> "Final: A.").size());
  }

  @Test
  void greedyAnswersOfANativeModelAreDecodedText() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 3)) {
      GreedyAnswers answers = GreedyAnswers.of(model, tiny.encoder(model.card()), 5);
      String a = answers.apply(tiny.dataset.get(0));
      String b = answers.apply(tiny.dataset.get(0));
      assertEquals(a, b, "greedy decoding is deterministic");
      assertTrue(a.split("\\s+").length <= 5, a);
    }
  }
}
