package dev.drivekd.core.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Hand-computed values and validation of {@link LrSchedule}. */
class LrScheduleTest {

  @Test
  void cosineWithWarmup() {
    LrSchedule s = LrSchedule.cosine(2e-4, 6, 2, 0.1);
    assertEquals(0.0, s.lambda(0), "the first step has rate 0");
    assertEquals(0.5, s.lambda(1));
    assertEquals(1.0, s.lambda(2));
    assertEquals(0.5 * (1 + Math.cos(Math.PI / 4)), s.lambda(3), 1e-15);
    assertEquals(0.5, s.lambda(4), 1e-15);
    assertEquals(0.1, s.lambda(6), "floor at minRatio");
    assertEquals(0.1, s.lambda(1000));
    assertEquals(1e-4, s.rate(4), 1e-19);
    assertEquals(s.rate(0), s.rateAtOptimizerStep(1));
  }

  @Test
  void linearAndConstant() {
    LrSchedule s = LrSchedule.linear(1.0, 4, 0, 0.3);
    assertEquals(1.0, s.lambda(0));
    assertEquals(0.75, s.lambda(1));
    assertEquals(0.5, s.lambda(2));
    assertEquals(0.3, s.lambda(3), "max(minRatio, 0.25)");
    LrSchedule c = LrSchedule.constant(5e-5);
    assertEquals(5e-5, c.rate(0));
    assertEquals(5e-5, c.rate(1_000_000));
  }

  @Test
  void referenceOptionMapping() {
    assertSame(
        LrSchedule.Kind.CONSTANT, LrSchedule.fromReferenceOptions("cosine", 1, 0, 5, 0).kind());
    assertSame(
        LrSchedule.Kind.LINEAR, LrSchedule.fromReferenceOptions("LINEAR", 1, 3, 0, 0).kind());
    assertSame(LrSchedule.Kind.COSINE, LrSchedule.fromReferenceOptions("step", 1, 3, 0, 0).kind());
    assertEquals(6, LrSchedule.totalOptimizerSteps(2, 9, 4));
    assertEquals(0, LrSchedule.totalOptimizerSteps(3, 0, 4));
  }

  @Test
  void trackerUsesTheOneBasedUpdateCount() {
    LrSchedule s = LrSchedule.linear(1.0, 4, 0, 0.0);
    assertEquals(1.0f, s.asTracker().getNewValue(1));
    assertEquals(0.75f, s.asTracker().getNewValue(2));
    assertEquals(1.0f, s.asTracker().getNewValue(0));
  }

  @Test
  void validation() {
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1, 5, -1, 0));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 5, 0, -0.1));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(1).lambda(-1));
    assertThrows(
        IllegalArgumentException.class, () -> LrSchedule.constant(1).rateAtOptimizerStep(0));
  }
}
