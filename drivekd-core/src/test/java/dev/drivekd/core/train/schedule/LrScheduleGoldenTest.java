package dev.drivekd.core.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.testing.ReferenceFiles;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every case of {@code lr_schedule.json} (rtol 1e-9, atol 1e-15), directly and through DJL. */
class LrScheduleGoldenTest {
  private static final double RTOL = 1e-9;
  private static final double ATOL = 1e-15;

  @TestFactory
  Stream<DynamicTest> everyGoldenCase() {
    JsonNode cases = ReferenceFiles.goldenCases("lr_schedule.json");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
  }

  private static void check(JsonNode c) {
    JsonNode in = c.get("inputs");
    JsonNode expected = c.get("expected");
    LrSchedule schedule =
        LrSchedule.fromReferenceOptions(
            in.get("type").asText(),
            in.get("base_lr").asDouble(),
            in.get("total_optim_steps").asLong(),
            in.get("warmup_optim_steps").asLong(),
            in.get("lr_min_ratio").asDouble());
    JsonNode ns = expected.get("n");
    JsonNode lambdas = expected.get("lambda");
    JsonNode lrs = expected.get("lr_at_optimizer_step");
    assertEquals(ns.size(), lambdas.size());
    assertEquals(ns.size(), lrs.size());
    assertTrue(ns.size() > 0);
    for (int i = 0; i < ns.size(); i++) {
      long n = ns.get(i).asLong();
      close(lambdas.get(i).asDouble(), schedule.lambda(n), "lambda(" + n + ")");
      long k = i + 1L;
      double lr = lrs.get(i).asDouble();
      close(lr, schedule.rateAtOptimizerStep(k), "rate at optimizer step " + k);
      close(lr, schedule.rate(k - 1), "rate(" + (k - 1) + ")");
      // DJL trackers are float: the adapter agrees to float precision.
      assertEquals((float) lr, schedule.asTracker().getNewValue((int) k), "tracker at update " + k);
    }
  }

  private static void close(double expected, double actual, String what) {
    double tol = ATOL + RTOL * Math.abs(expected);
    assertTrue(
        Math.abs(actual - expected) <= tol,
        what + ": expected " + expected + ", got " + actual + " (tolerance " + tol + ")");
  }
}
