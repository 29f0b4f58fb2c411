package dev.drivekd.core.train.weighting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code dynamic_weights.json}: the reference's {@code _OnlineReweightGroup} driven
 * window by window, compared on every recorded value (float32 pipeline: rtol 1e-5, atol 1e-9).
 */
class DynamicWeightsGoldenTest {
  private static final double RTOL = 1e-5;
  private static final double ATOL = 1e-9;

  /**
   * The balancer's parameters {@code a = log(expm1(w))} are compared with an absolute bound as
   * well: near {@code w = ln 2} the map sends {@code a} through 0, and one float32 ulp of {@code w}
   * (the reference's libm expm1f/logf against Java's correctly rounded functions) is 1.2e-7 in
   * {@code a} however small {@code a} is. Measured on the large-alpha/large-rate cases: at most
   * 4.4e-7 (1.4e-5 relative at a = 0.017); the weights themselves agree to 1.1e-6 relative.
   */
  private static final double A_ATOL = 1e-6;

  @TestFactory
  Stream<DynamicTest> everyGoldenCase() {
    JsonNode cases = ReferenceFiles.goldenCases("dynamic_weights.json");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
  }

  static DynamicWeightConfig config(JsonNode cfg) {
    return new DynamicWeightConfig(
        cfg.get("dynamic_weight_lr").asDouble(),
        cfg.get("reweight_alpha").asDouble(),
        cfg.get("dynamic_weight_min").asDouble(),
        cfg.get("dynamic_weight_max").asDouble(),
        cfg.get("min_dynamic_weight_ce").asDouble(),
        cfg.get("dynamic_weight_eps").asDouble(),
        cfg.get("adam_betas").get(0).asDouble(),
        cfg.get("adam_betas").get(1).asDouble(),
        cfg.get("adam_eps").asDouble(),
        cfg.get("adam_weight_decay").asDouble());
  }

  static Map<String, Double> doubles(JsonNode object) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), e.getValue().asDouble());
    }
    return out;
  }

  private static void check(JsonNode c) {
    JsonNode in = c.get("inputs");
    JsonNode expected = c.get("expected");
    LossWeighting weighting =
        LossWeighting.dynamic(doubles(in.get("static_weights")), config(in.get("config")));

    List<String> active = new ArrayList<>();
    expected.get("active_losses").forEach(k -> active.add(k.asText()));
    assertEquals(active, weighting.activeKeys(), "active keys");
    assertEquals(expected.get("dynamic_enabled").asBoolean(), weighting.isDynamic());
    closeMap(expected.get("initial").get("a"), weighting.exportState().a(), "initial a");
    closeMap(expected.get("initial").get("weights"), weighting.currentWeights(), "initial weights");

    JsonNode windows = in.get("windows");
    JsonNode expectedWindows = expected.get("windows");
    assertEquals(windows.size(), expectedWindows.size());
    for (int w = 0; w < windows.size(); w++) {
      String at = c.get("name").asText() + ", window " + w + ": ";
      JsonNode ew = expectedWindows.get(w);
      closeMap(ew.get("weights_used"), weighting.currentWeights(), at + "weights_used");
      for (JsonNode micro : windows.get(w).get("micro_steps")) {
        weighting.accumulate(doubles(micro.get("losses")), doubles(micro.get("norms")));
        closeMap(ew.get("weights_used"), weighting.currentWeights(), at + "weights within window");
      }
      WeightUpdate update = weighting.update();
      assertEquals(ew.get("count").asInt(), update.count(), at + "count");
      closeMap(ew.get("mean_losses"), update.meanLosses(), at + "mean_losses");
      closeMap(ew.get("mean_norms"), update.meanNorms(), at + "mean_norms");
      assertEquals(ew.get("updated").asBoolean(), update.updated(), at + "updated");
      closeMap(ew.get("update_return"), update.newWeights(), at + "update_return");
      LossWeightingState state = weighting.exportState();
      closeMap(ew.get("loss_init_values"), state.lossInit(), at + "loss_init_values");
      checkInternals(ew.get("internals"), update.internals(), at);
      Map<String, Double> aExpected = doubles(ew.get("a_after"));
      assertEquals(aExpected.keySet(), state.a().keySet(), at + "a_after keys");
      aExpected.forEach((key, a) -> close(a, state.a().get(key), A_ATOL, at + "a_after " + key));
      checkAdam(ew.get("adam_state"), state.adam(), at);
      closeMap(ew.get("weights_after"), weighting.currentWeights(), at + "weights_after");
      assertEquals(0, state.windowCount(), at + "window reset");
    }
  }

  private static void checkInternals(JsonNode e, WeightUpdate.Internals actual, String at) {
    if (e == null || e.isNull()) {
      assertNull(actual, at + "internals should be absent");
      return;
    }
    assertNotNull(actual, at + "internals");
    List<String> avail = new ArrayList<>();
    e.get("avail").forEach(k -> avail.add(k.asText()));
    assertEquals(avail, actual.avail(), at + "avail");
    closeMap(e.get("w_now"), actual.weightsNow(), at + "w_now");
    closeMap(e.get("G"), actual.g(), at + "G");
    close(e.get("G_sum").asDouble(), actual.gSum(), at + "G_sum");
    closeMap(e.get("target_shares"), actual.targetShares(), at + "target_shares");
    closeMap(e.get("loss_ratios"), actual.lossRatios(), at + "loss_ratios");
    close(e.get("r_bar").asDouble(), actual.rBar(), at + "r_bar");
    closeMap(e.get("targets"), actual.targets(), at + "targets");
    close(e.get("objective").asDouble(), actual.objective(), at + "objective");
    JsonNode grads = e.get("grad_a");
    Map<String, Double> present = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = grads.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> g = it.next();
      if (!g.getValue().isNull()) {
        present.put(g.getKey(), g.getValue().asDouble());
      }
    }
    assertEquals(present.keySet(), actual.gradA().keySet(), at + "keys with a gradient");
    for (Map.Entry<String, Double> g : present.entrySet()) {
      close(g.getValue(), actual.gradA().get(g.getKey()), at + "grad_a " + g.getKey());
    }
    close(e.get("subset_sum").asDouble(), actual.subsetSum(), at + "subset_sum");
    close(e.get("target_subset_sum").asDouble(), actual.targetSubsetSum(), at + "target_sum");
    close(e.get("scale").asDouble(), actual.scale(), at + "scale");
  }

  private static void checkAdam(
      JsonNode e, Map<String, LossWeightingState.AdamScalarState> actual, String at) {
    for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String key = entry.getKey();
      LossWeightingState.AdamScalarState state = actual.get(key);
      if (entry.getValue().isNull()) {
        assertNull(state, at + "adam state of " + key + " should be absent");
        continue;
      }
      assertNotNull(state, at + "adam state of " + key);
      assertEquals(entry.getValue().get("step").asLong(), state.step(), at + "step " + key);
      close(entry.getValue().get("exp_avg").asDouble(), state.expAvg(), at + "exp_avg " + key);
      close(
          entry.getValue().get("exp_avg_sq").asDouble(),
          state.expAvgSq(),
          at + "exp_avg_sq " + key);
    }
    for (String key : actual.keySet()) {
      assertTrue(e.has(key), at + "unexpected adam state for " + key);
    }
  }

  private static void closeMap(JsonNode expected, Map<String, ? extends Number> actual, String at) {
    Map<String, Double> e = doubles(expected);
    assertEquals(e.keySet(), actual.keySet(), at + ": keys");
    for (Map.Entry<String, Double> entry : e.entrySet()) {
      close(entry.getValue(), actual.get(entry.getKey()).doubleValue(), at + " " + entry.getKey());
    }
  }

  private static void close(double expected, double actual, String what) {
    close(expected, actual, ATOL, what);
  }

  private static void close(double expected, double actual, double atol, String what) {
    double tol = atol + RTOL * Math.abs(expected);
    assertTrue(
        Math.abs(actual - expected) <= tol,
        what
            + ": expected "
            + expected
            + ", got "
            + actual
            + " (diff "
            + (actual - expected)
            + ")");
  }
}
