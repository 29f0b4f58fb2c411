package dev.drivekd.core.train.optimizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** {@link GradientClipping} against {@code torch.nn.utils.clip_grad_norm_} and its edge cases. */
class GradientClippingTest {

  /** Parameters whose {@code .grad} holds {@code grads} (a backward materialises it first). */
  static List<Parameter> withGradients(NDManager manager, float[]... grads) {
    List<Parameter> params = new ArrayList<>();
    for (int i = 0; i < grads.length; i++) {
      NDArray w = manager.zeros(new ai.djl.ndarray.types.Shape(grads[i].length));
      w.setRequiresGradient(true);
      params.add(
          Parameter.builder().setName("p" + i).setType(Parameter.Type.WEIGHT).optArray(w).build());
    }
    try (ai.djl.training.GradientCollector collector =
        ai.djl.engine.Engine.getInstance().newGradientCollector()) {
      NDArray loss = null;
      for (Parameter p : params) {
        NDArray s = p.getArray().sum();
        loss = loss == null ? s : loss.add(s);
      }
      collector.backward(loss);
    }
    for (int i = 0; i < grads.length; i++) {
      try (NDArray g = params.get(i).getArray().getGradient()) {
        g.set(grads[i]);
      }
    }
    return params;
  }

  static float[] grad(Parameter p) {
    try (NDArray g = p.getArray().getGradient()) {
      return g.toFloatArray();
    }
  }

  @TestFactory
  Stream<DynamicTest> everyTorchCase() {
    JsonNode cases = TorchReference.root().get("clip_grad_norm");
    assertTrue(cases.size() > 0);
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
  }

  private static void check(JsonNode c) {
    try (NDManager manager = NDManager.newBaseManager()) {
      float[][] grads = new float[c.get("grads").size()][];
      for (int i = 0; i < grads.length; i++) {
        grads[i] = TorchReference.floats(c.get("grads").get(i));
      }
      List<Parameter> params = withGradients(manager, grads);
      double maxNorm = c.get("max_norm").asDouble();
      double expectedNorm = c.get("total_norm").asDouble();
      GradientClipping.Result r = GradientClipping.clipByGlobalNorm(params, maxNorm);
      assertTrue(r.finite());
      assertEquals(expectedNorm, r.totalNorm(), 1e-6 * expectedNorm);
      assertEquals(expectedNorm > maxNorm, r.clipped());
      for (int i = 0; i < params.size(); i++) {
        float[] e = TorchReference.floats(c.get("clipped").get(i));
        float[] a = grad(params.get(i));
        assertTrue(TorchReference.close(e, a, 1e-6, 1e-9), TorchReference.describe(e, a));
      }
    }
  }

  @Test
  void handComputedNorm() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // sqrt(3² + 4² + 12²) = 13; coefficient 6.5 / (13 + 1e-6)
      List<Parameter> params = withGradients(manager, new float[] {3, 4}, new float[] {12});
      assertEquals(13.0, GradientClipping.globalNorm(params), 1e-6);
      GradientClipping.Result r = GradientClipping.clipByGlobalNorm(params, 6.5);
      assertTrue(r.clipped());
      assertEquals(0.5, r.coefficient(), 1e-7);
      assertArrayEquals(new float[] {1.5f, 2f}, grad(params.get(0)), 1e-6f);
      assertArrayEquals(new float[] {6f}, grad(params.get(1)), 1e-6f);
    }
  }

  @Test
  void nonFiniteNormLeavesGradientsAndReportsIt() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Parameter> params = withGradients(manager, new float[] {1, Float.NaN}, new float[] {2});
      GradientClipping.Result r = GradientClipping.clipByGlobalNorm(params, 1.0);
      assertFalse(r.finite());
      assertFalse(r.clipped());
      assertTrue(Double.isNaN(r.totalNorm()));
      assertEquals(1f, grad(params.get(0))[0]);
      assertEquals(2f, grad(params.get(1))[0], "other gradients are not scaled either");

      List<Parameter> inf = withGradients(manager, new float[] {Float.POSITIVE_INFINITY, 1});
      GradientClipping.Result ri = GradientClipping.clipByGlobalNorm(inf, 1.0);
      assertFalse(ri.finite());
      assertEquals(1f, grad(inf.get(0))[1]);
    }
  }

  @Test
  void frozenParametersAreIgnoredAndNothingLeaks() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Parameter> params = withGradients(manager, new float[] {3, 4});
      Parameter frozen =
          Parameter.builder()
              .setName("frozen")
              .setType(Parameter.Type.WEIGHT)
              .optRequiresGrad(false)
              .optArray(manager.create(new float[] {100f}))
              .build();
      params.add(frozen);
      int before = manager.getManagedArrays().size();
      assertEquals(5.0, GradientClipping.globalNorm(params), 1e-6);
      GradientClipping.clipByGlobalNorm(params, 1.0);
      assertEquals(before, manager.getManagedArrays().size());
      assertArrayEquals(new float[] {0.6f, 0.8f}, grad(params.get(0)), 1e-6f);
    }
  }

  @Test
  void rejectsBadMaxNorm() {
    assertThrows(
        IllegalArgumentException.class, () -> GradientClipping.clipByGlobalNorm(List.of(), 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> GradientClipping.clipByGlobalNorm(List.of(), Double.NaN));
    assertEquals(0.0, GradientClipping.globalNorm(List.of()));
  }
}
