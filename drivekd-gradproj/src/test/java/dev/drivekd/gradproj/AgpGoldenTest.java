package dev.drivekd.gradproj;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Parity with the reference's per-sample gradient combination (golden agp.json, every case). */
class AgpGoldenTest {
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @TestFactory
  Stream<DynamicTest> everyCase() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : ReferenceFiles.goldenCases("agp.json")) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
    }
    return tests.stream();
  }

  private static void check(JsonNode c) {
    JsonNode in = c.get("inputs");
    JsonNode ex = c.get("expected");
    List<String> tasks = new ArrayList<>();
    ex.get("task_order").forEach(t -> tasks.add(t.asText()));
    List<Shape> shapes = new ArrayList<>();
    for (JsonNode s : in.get("param_shapes")) {
      long[] dims = new long[s.size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = s.get(i).asLong();
      }
      shapes.add(new Shape(dims));
    }
    try (NDManager scope = manager.newSubManager();
        TaskGradients g = TaskGradients.create(scope, tasks, shapes, DataType.FLOAT64)) {
      for (String task : tasks) {
        g.snapshot(task, arrays(scope, in.get("grads").get(task), shapes));
        g.weight(task, ex.get("effective_weights").get(task).asDouble());
      }
      boolean agp = in.get("use_agp").asBoolean();
      if (agp) {
        List<String> order = new ArrayList<>();
        ex.get("stage2_permutation_used").forEach(t -> order.add(t.asText()));
        g.stage2Order(order);
      }

      double[] norms = g.norms();
      for (int k = 0; k < tasks.size(); k++) {
        assertClose(ex.get("base_norms").get(tasks.get(k)).asDouble(), norms[k], 1e-5, 0, "norm");
      }

      GradientProjection projection = agp ? GradientProjection.agp() : GradientProjection.none();
      try (CombinedGradient combined = projection.combine(g)) {
        ProjectionReport report = combined.report();
        if (agp) {
          checkSteps(ex.get("stage1"), report.stage1(), "cap", null);
          checkSteps(ex.get("stage2"), report.stage2(), "target", "against");
          assertEquals(0, report.hostSynchronisations(), "norms() already read the Gram matrices");
        } else {
          assertTrue(report.stage1().isEmpty() && report.stage2().isEmpty());
        }
        checkPerParameter(ex.get("total"), combined, null, shapes, scope, "total");
        JsonNode prev = in.get("prev_grad");
        checkPerParameter(ex.get("written_grad"), combined, prev, shapes, scope, "written_grad");
      }
    }
  }

  private static void checkSteps(
      JsonNode expected, List<ProjectionStep> actual, String targetKey, String againstKey) {
    assertEquals(expected.size(), actual.size(), "number of projection tests");
    for (int i = 0; i < expected.size(); i++) {
      JsonNode e = expected.get(i);
      ProjectionStep a = actual.get(i);
      assertEquals(e.get(targetKey).asText(), a.target(), "target of test " + i);
      if (againstKey != null) {
        assertEquals(e.get(againstKey).asText(), a.against(), "against of test " + i);
      }
      assertEquals(e.get("projected").asBoolean(), a.projected(), "projected, test " + i);
      assertClose(e.get("dot").asDouble(), a.dot(), 1e-5, 1e-30, "dot, test " + i);
      if (a.projected()) {
        assertClose(
            e.get("anchor_norm_sq_floored").asDouble(),
            a.againstNormSquaredFloored(),
            1e-5,
            0,
            "norm, test " + i);
        assertClose(e.get("coef").asDouble(), a.coefficient(), 1e-5, 0, "coef, test " + i);
      } else {
        assertTrue(e.get("coef").isNull(), "reference did not project test " + i);
      }
    }
  }

  private static void checkPerParameter(
      JsonNode expected,
      CombinedGradient combined,
      JsonNode prev,
      List<Shape> shapes,
      NDManager scope,
      String what) {
    double scale = 0;
    for (JsonNode p : expected) {
      if (!p.isNull()) {
        for (double v : Nested.flatten(p)) {
          scale = Math.max(scale, Math.abs(v));
        }
      }
    }
    boolean accumulate = prev != null;
    for (int i = 0; i < shapes.size(); i++) {
      JsonNode e = expected.get(i);
      NDArray actual;
      if (accumulate) {
        JsonNode prevEntry = prev.isNull() ? null : prev.get(i);
        boolean hasPrev = prevEntry != null && !prevEntry.isNull();
        if (!hasPrev && !combined.isPresent(i)) {
          assertTrue(e.isNull(), what + "[" + i + "] should be None");
          continue;
        }
        actual =
            hasPrev
                ? scope.create(Nested.flatten(prevEntry), shapes.get(i))
                : scope.zeros(shapes.get(i), DataType.FLOAT64);
        combined.addTo(i, actual);
      } else {
        actual = combined.materialize(i, scope);
        if (actual == null) {
          assertTrue(e.isNull(), what + "[" + i + "] is None but the reference has a value");
          continue;
        }
      }
      if (e.isNull()) {
        fail(what + "[" + i + "] should be None");
      }
      assertEquals(shapes.get(i), actual.getShape());
      double[] want = Nested.flatten(e);
      double[] got = actual.toDoubleArray();
      for (int j = 0; j < want.length; j++) {
        assertClose(want[j], got[j], 1e-6, 1e-6 * scale, what + "[" + i + "][" + j + "]");
      }
    }
  }

  private static List<NDArray> arrays(NDManager m, JsonNode perParam, List<Shape> shapes) {
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < shapes.size(); i++) {
      JsonNode p = perParam.get(i);
      out.add(p.isNull() ? null : m.create(Nested.flatten(p), shapes.get(i)));
    }
    return out;
  }

  static void assertClose(double want, double got, double rtol, double atol, String what) {
    if (Math.abs(got - want) > atol + rtol * Math.abs(want)) {
      fail(what + ": expected " + want + " but was " + got);
    }
  }

  static void assertAbsent(NDArray a) {
    assertNull(a);
  }
}
