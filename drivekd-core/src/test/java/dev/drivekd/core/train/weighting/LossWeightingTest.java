package dev.drivekd.core.train.weighting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.data.Capability;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hand-computed and property checks of {@link LossWeighting} beyond the golden file. */
class LossWeightingTest {
  private static final String CE = TaskKeys.CE;
  private static final String P = TaskKeys.of(Capability.PERCEPTION);
  private static final String R = TaskKeys.of(Capability.REASONING);
  private static final String D = TaskKeys.of(Capability.PLANNING);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Map<String, Double> statics(double ce, double p, double r, double d) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put(CE, ce);
    m.put(P, p);
    m.put(R, r);
    m.put(D, d);
    return m;
  }

  private static double softplus(double x) {
    return x > 20 ? x : Math.log1p(Math.exp(x));
  }

  @Test
  void staticWeightsAreFloat32OfTheStaticValues() {
    LossWeighting w = LossWeighting.staticWeights(statics(1.0, 0.3, 0.0, 2.5));
    assertFalse(w.isDynamic());
    assertEquals(List.of(CE, P, D), w.activeKeys());
    assertEquals(Map.of(CE, 1f, P, 0.3f, D, 2.5f), w.currentWeights());
    w.accumulate(Map.of(CE, 1.0), Map.of(CE, 1.0));
    WeightUpdate u = w.update();
    assertFalse(u.updated());
    assertEquals(0, u.count(), "static weights collect no statistics");
    assertThrows(IllegalArgumentException.class, () -> w.weight(R));
  }

  @Test
  void dynamicNeedsTwoActiveKeys() {
    LossWeighting sft = LossWeighting.dynamic(Map.of(CE, 1.0));
    assertFalse(sft.isDynamic(), "pure SFT has nothing to balance");
    assertEquals(List.of(CE), sft.activeKeys());
    assertTrue(LossWeighting.dynamic(Map.of(CE, 1.0, P, 1.0)).isDynamic());
  }

  @Test
  void initialParameterIsSoftplusInverseOfTheStaticWeight() {
    LossWeighting w = LossWeighting.dynamic(TaskKeys.defaultStaticWeights());
    // method.md 3.1: a = softplus_inv(1.0) = 0.5413248546 (float32 0.54132485)
    for (float a : w.exportState().a().values()) {
      assertEquals(0.5413248546, a, 1e-7);
    }
    for (float weight : w.currentWeights().values()) {
      assertEquals(1f, weight, 0f);
    }
    // clamp before the inverse, and the CE floor on the weight
    LossWeighting low =
        LossWeighting.dynamic(
            statics(0.1, 1e-9, 1, 1), DynamicWeightConfig.defaults().withMinCeWeight(0.6));
    assertEquals(0.6f, low.weight(CE), 0f);
    // softplus(softplus_inv(1e-6)) + eps: the 1e-8 is 1% of the smallest weight
    assertEquals(1e-6 + 1e-8, low.weight(P), 1e-11);
  }

  /** Two keys, hand-derived: G = (2, 1), S = 3, targets 1.5, e = (+1, -1), c = 0. */
  @Test
  void handComputedTwoKeyUpdate() {
    double lr = 0.01;
    LossWeighting w =
        LossWeighting.dynamic(
            statics(1, 0, 0, 1), DynamicWeightConfig.defaults().withLearningRate(lr));
    w.accumulate(Map.of(CE, 3.0, D, 0.5), Map.of(CE, 2.0, D, 1.0));
    w.accumulate(Map.of(CE, 1.0, D, 0.25), Map.of(CE, 2.0, D, 1.0));
    WeightUpdate u = w.update();
    assertTrue(u.updated());
    assertEquals(2, u.count());
    assertEquals(2f, u.meanLosses().get(CE));
    assertEquals(0.375f, u.meanLosses().get(D));
    WeightUpdate.Internals in = u.internals();
    assertEquals(3f, in.gSum());
    assertEquals(1.5f, in.targets().get(CE));
    assertEquals(1f, in.objective());
    double sigma = 1 - Math.exp(-1); // σ(a) where softplus(a) = 1
    assertEquals(2 * sigma, in.gradA().get(CE), 1e-6);
    assertEquals(-1 * sigma, in.gradA().get(D), 1e-6);
    // First AdamW step moves each a by lr·sign(g) (up to eps); then Σw is renormalised to 2.
    double a0 = Math.log(Math.expm1(1.0));
    double wCe = softplus(a0 - lr) + 1e-8;
    double wD = softplus(a0 + lr) + 1e-8;
    double scale = 2 / (wCe + wD);
    assertEquals(wCe * scale, u.newWeights().get(CE), 2e-6);
    assertEquals(wD * scale, u.newWeights().get(D), 2e-6);
    assertTrue(u.newWeights().get(CE) < 1 && u.newWeights().get(D) > 1, "w ∝ 1/n̄ direction");
    assertEquals(2.0, u.newWeights().get(CE) + u.newWeights().get(D), 1e-6);
  }

  /** The analytic ∂J/∂a (method.md 3.3, step 7) against central finite differences of J. */
  @Test
  void gradientMatchesFiniteDifferences() {
    Random random = new Random(7);
    for (double alpha : new double[] {0.0, 0.5, 1.5}) {
      LossWeighting w =
          LossWeighting.dynamic(
              statics(1.0, 0.7, 1.3, 0.9), DynamicWeightConfig.defaults().withAlpha(alpha));
      // a first window sets L0, the second has different losses so that q != 1
      for (int window = 0; window < 2; window++) {
        Map<String, Double> losses = new LinkedHashMap<>();
        Map<String, Double> norms = new LinkedHashMap<>();
        for (String k : w.activeKeys()) {
          losses.put(k, 0.1 + random.nextDouble());
          norms.put(k, 0.05 + 3 * random.nextDouble());
        }
        Map<String, Float> a = w.exportState().a();
        Map<String, Float> lossInit = w.exportState().lossInit();
        w.accumulate(losses, norms);
        WeightUpdate u = w.update();
        Map<String, Double> l0 = new LinkedHashMap<>();
        for (String k : w.activeKeys()) {
          l0.put(k, lossInit.containsKey(k) ? lossInit.get(k) : losses.get(k));
        }
        for (String k : w.activeKeys()) {
          double h = 1e-4;
          double plus = objective(w, a, k, h, u.meanNorms(), u.meanLosses(), l0, alpha);
          double minus = objective(w, a, k, -h, u.meanNorms(), u.meanLosses(), l0, alpha);
          double fd = (plus - minus) / (2 * h);
          assertEquals(fd, u.internals().gradA().get(k), 1e-3 * Math.max(1, Math.abs(fd)), k);
        }
      }
    }
  }

  /** J(a) in double, with a_k shifted by h (q held fixed, as the reference detaches it). */
  private static double objective(
      LossWeighting w,
      Map<String, Float> a,
      String shifted,
      double h,
      Map<String, Float> norms,
      Map<String, Float> losses,
      Map<String, Double> l0,
      double alpha) {
    List<String> keys = w.activeKeys();
    double[] g = new double[keys.size()];
    double[] ratio = new double[keys.size()];
    double s = 0;
    double rSum = 0;
    double shareSum = 0;
    for (int i = 0; i < keys.size(); i++) {
      String k = keys.get(i);
      double ak = a.get(k) + (k.equals(shifted) ? h : 0);
      double wk = Math.min(Math.max(softplus(ak) + 1e-8, 1e-6), 1e6);
      if (k.equals(CE)) {
        wk = Math.max(wk, 0.6);
      }
      g[i] = wk * norms.get(k);
      s += g[i];
      ratio[i] = losses.get(k) / l0.get(k);
      rSum += ratio[i];
      shareSum += w.staticWeights().get(k);
    }
    double j = 0;
    for (int i = 0; i < keys.size(); i++) {
      double p = w.staticWeights().get(keys.get(i)) / shareSum;
      double q = Math.pow(ratio[i] / (rSum / keys.size()), alpha);
      j += Math.abs(g[i] - p * q * s);
    }
    return j;
  }

  @Test
  void missingKeysAndNonFiniteStatistics() {
    LossWeighting w =
        LossWeighting.dynamic(
            TaskKeys.defaultStaticWeights(), DynamicWeightConfig.defaults().withLearningRate(0.1));
    w.accumulate(Map.of(CE, 1.0, P, 2.0), Map.of(CE, 1.0, P, 2.0));
    w.accumulate(Map.of(CE, 1.0), Map.of(CE, 1.0));
    WeightUpdate u = w.update();
    assertEquals(2, u.count(), "a micro-step without p still counts");
    assertEquals(1f, u.meanLosses().get(P), "sum 2 over the shared count 2");
    assertEquals(List.of(CE, P), u.internals().avail());
    assertEquals(2, u.internals().gradA().size(), "r and d get no gradient");
    assertEquals(2.0, u.internals().targetSubsetSum(), 0.0);

    Map<String, Float> before = w.currentWeights();
    w.accumulate(Map.of(CE, Double.NaN, P, 1.0), Map.of(CE, 1.0, P, 1.0));
    WeightUpdate skipped = w.update();
    assertFalse(skipped.updated(), "a NaN window is not allowed to poison the weights");
    assertEquals(before, w.currentWeights());

    w.accumulate(Map.of(CE, 1.0), Map.of(CE, 1.0));
    assertFalse(w.update().updated(), "one available key: nothing to balance");
    assertFalse(w.update().updated(), "empty window");
  }

  @Test
  void stateRoundTripsThroughJsonBitExactlyAndContinuesIdentically() throws Exception {
    Random random = new Random(11);
    DynamicWeightConfig config = DynamicWeightConfig.defaults().withLearningRate(0.05);
    LossWeighting original = LossWeighting.dynamic(statics(1, 1, 0.5, 2), config);
    for (int step = 0; step < 5; step++) {
      feed(original, random, 3);
      original.update();
    }
    feed(original, random, 2); // an open window is part of the state

    LossWeightingState state = original.exportState();
    String json = JSON.writeValueAsString(state);
    LossWeightingState back = JSON.readValue(json, LossWeightingState.class);
    assertEquals(state, back, json);
    for (Map.Entry<String, Float> e : state.a().entrySet()) {
      assertEquals(
          Float.floatToRawIntBits(e.getValue()), Float.floatToRawIntBits(back.a().get(e.getKey())));
    }
    LossWeighting restored = LossWeighting.fromState(back);
    assertEquals(original.currentWeights(), restored.currentWeights());

    for (int step = 0; step < 4; step++) {
      long seed = random.nextLong();
      feed(original, new Random(seed), 2);
      feed(restored, new Random(seed), 2);
      WeightUpdate a = original.update();
      WeightUpdate b = restored.update();
      assertEquals(a.newWeights(), b.newWeights());
      assertEquals(a.count(), b.count());
    }
    assertEquals(original.exportState(), restored.exportState());

    LossWeightingState staticState = LossWeighting.staticWeights(statics(1, 0, 2, 0)).exportState();
    LossWeighting staticBack =
        LossWeighting.fromState(
            JSON.readValue(JSON.writeValueAsString(staticState), LossWeightingState.class));
    assertFalse(staticBack.isDynamic());
    assertEquals(Map.of(CE, 1f, R, 2f), staticBack.currentWeights());
  }

  private static void feed(LossWeighting w, Random random, int microSteps) {
    for (int i = 0; i < microSteps; i++) {
      Map<String, Double> losses = new LinkedHashMap<>();
      Map<String, Double> norms = new LinkedHashMap<>();
      for (String k : w.activeKeys()) {
        losses.put(k, random.nextDouble());
        norms.put(k, 0.01 + random.nextDouble() * (k.equals(CE) ? 5 : 0.5));
      }
      w.accumulate(losses, norms);
    }
  }

  @Test
  void balancerPushesWeightedNormsTowardEqualShares() {
    LossWeighting w =
        LossWeighting.dynamic(
            TaskKeys.defaultStaticWeights(), DynamicWeightConfig.defaults().withLearningRate(0.05));
    Map<String, Double> norms = Map.of(CE, 4.0, P, 0.05, R, 0.4, D, 0.1);
    Map<String, Double> losses = Map.of(CE, 2.0, P, 1e-4, R, 1e-3, D, 5e-4);
    double spreadBefore = spread(w.currentWeights(), norms);
    for (int i = 0; i < 200; i++) {
      w.accumulate(losses, norms);
      w.update();
    }
    Map<String, Float> after = w.currentWeights();
    assertTrue(spread(after, norms) < spreadBefore, "weighted norms move closer together");
    double sum = 0;
    for (float v : after.values()) {
      sum += v;
    }
    // The renormalisation scales Σw to T = 4 before the CE floor, so the floor can lift the sum.
    assertEquals(0.6f, after.get(CE), 1e-6f, "a CE norm 10x the others drives w_ce to its floor");
    assertTrue(sum > 4.0, "Σw = " + sum);
    double others = sum - after.get(CE);
    assertTrue(others < 4.0 - 0.6 + 0.05, "the others were scaled before the floor: " + others);
    assertNotEquals(1f, after.get(P));
  }

  private static double spread(Map<String, Float> w, Map<String, Double> norms) {
    double max = 0;
    double min = Double.MAX_VALUE;
    for (String k : w.keySet()) {
      double g = w.get(k) * norms.get(k);
      max = Math.max(max, g);
      min = Math.min(min, g);
    }
    return max / min;
  }

  @Test
  void rejectsBadInputs() {
    assertThrows(
        IllegalArgumentException.class,
        () -> LossWeighting.staticWeights(Map.of(CE, 1.0, "kd", 1.0)));
    assertThrows(IllegalArgumentException.class, () -> LossWeighting.staticWeights(Map.of(P, 1.0)));
    assertThrows(
        IllegalArgumentException.class,
        () -> LossWeighting.dynamic(Map.of(CE, 1.0, P, Double.NaN)));
    assertThrows(
        IllegalArgumentException.class, () -> DynamicWeightConfig.defaults().withWeightRange(2, 1));
    LossWeightingState state = LossWeighting.dynamic(Map.of(CE, 1.0, P, 1.0)).exportState();
    LossWeightingState wrongVersion =
        new LossWeightingState(
            99,
            true,
            state.staticWeights(),
            state.config(),
            state.a(),
            state.adam(),
            state.lossInit(),
            0,
            null,
            null);
    assertThrows(IllegalArgumentException.class, () -> LossWeighting.fromState(wrongVersion));
    Map<String, Float> extra = new LinkedHashMap<>(state.a());
    extra.put(R, 0.5f);
    LossWeightingState unknownKey =
        new LossWeightingState(
            LossWeightingState.VERSION,
            true,
            state.staticWeights(),
            state.config(),
            extra,
            null,
            null,
            0,
            null,
            null);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LossWeighting.fromState(unknownKey));
    assertTrue(e.getMessage().contains(R), e.getMessage());
  }
}
