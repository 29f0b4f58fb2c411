package dev.drivekd.core.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reference's accumulation loop (method.md 4.5, 9) through {@link AccumulationSchedule}. */
class AccumulationScheduleTest {

  /** Indices (1-based counter) after which the optimizer steps in one epoch. */
  private static List<Integer> boundaries(AccumulationSchedule s, int samples) {
    List<Integer> out = new ArrayList<>();
    s.beginEpoch(samples);
    for (int i = 0; i < samples; i++) {
      AccumulationSchedule.MicroStep m = s.nextMicroStep();
      assertEquals(i, m.indexInEpoch());
      assertEquals(
          1.0 / s.accumulation(),
          m.lossScale(),
          0.0,
          "s = 1/A on every micro-step, short window too");
      if (m.stepAfter()) {
        out.add(i + 1);
        s.completeOptimizerStep();
      }
    }
    return out;
  }

  @Test
  void stepsEveryAAndAtTheEpochEnd() {
    AccumulationSchedule s = new AccumulationSchedule(4);
    assertEquals(List.of(4, 8, 10), boundaries(s, 10));
    assertEquals(3, s.optimizerSteps());
    assertEquals(List.of(4, 8, 10), boundaries(s, 10), "the counter restarts every epoch");
    assertEquals(LrSchedule.totalOptimizerSteps(2, 10, 4), s.optimizerSteps());
    assertEquals(20, s.microSteps());
    assertEquals(1, s.epoch());
    assertEquals(List.of(1, 2, 3), boundaries(new AccumulationSchedule(1), 3));
    assertEquals(List.of(3), boundaries(new AccumulationSchedule(8), 3));
    assertEquals(3, s.stepsPerEpoch(9));
  }

  @Test
  void windowPositionsAndLearningRateOrder() {
    AccumulationSchedule s = new AccumulationSchedule(2);
    LrSchedule lr = LrSchedule.linear(1.0, 3, 1, 0.0);
    List<Double> rates = new ArrayList<>();
    s.beginEpoch(5);
    List<Integer> positions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      AccumulationSchedule.MicroStep m = s.nextMicroStep();
      positions.add(m.positionInWindow());
      if (m.stepAfter()) {
        rates.add(lr.rate(s.optimizerSteps())); // the rate the optimizer uses now
        s.completeOptimizerStep(); // then the scheduler steps
      }
    }
    assertEquals(List.of(1, 2, 1, 2, 1), positions);
    // warmup 1: step 1 has rate 0, then linear decay over 2 steps
    assertEquals(List.of(0.0, 1.0, 0.5), rates);
  }

  @Test
  void misuseFailsLoudly() {
    AccumulationSchedule s = new AccumulationSchedule(2);
    assertThrows(IllegalStateException.class, s::nextMicroStep);
    s.beginEpoch(3);
    assertThrows(IllegalStateException.class, s::completeOptimizerStep);
    s.nextMicroStep();
    assertTrue(s.nextMicroStep().stepAfter());
    assertThrows(IllegalStateException.class, s::nextMicroStep, "step not completed");
    s.completeOptimizerStep();
    assertThrows(IllegalStateException.class, () -> s.beginEpoch(3), "epoch unfinished");
    s.nextMicroStep();
    s.completeOptimizerStep();
    assertThrows(IllegalStateException.class, s::nextMicroStep, "epoch is over");
    assertThrows(IllegalArgumentException.class, () -> new AccumulationSchedule(0));
  }

  @Test
  void stateRoundTripsMidWindowAndAtAPendingStep() throws Exception {
    ObjectMapper json = new ObjectMapper();
    for (int cut = 1; cut <= 7; cut++) {
      AccumulationSchedule a = new AccumulationSchedule(3);
      a.beginEpoch(7);
      List<Boolean> expected = new ArrayList<>();
      List<Boolean> actual = new ArrayList<>();
      AccumulationSchedule current = a;
      for (int i = 0; i < 7; i++) {
        AccumulationSchedule.MicroStep m = current.nextMicroStep();
        actual.add(m.stepAfter());
        expected.add((i + 1) % 3 == 0 || i == 6);
        if (i + 1 == cut) {
          String text = json.writeValueAsString(current.exportState());
          AccumulationSchedule.State state = json.readValue(text, AccumulationSchedule.State.class);
          assertEquals(current.exportState(), state);
          current = AccumulationSchedule.fromState(state);
        }
        if (m.stepAfter()) {
          current.completeOptimizerStep();
        }
      }
      assertEquals(expected, actual, "cut after " + cut);
      assertEquals(3, current.optimizerSteps());
      assertFalse(current.exportState().stepPending());
    }
  }
}
