package dev.drivekd.gradproj;

import static dev.drivekd.gradproj.AgpGoldenTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AgpPropertiesTest {
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void agreesWithTheReferenceStyleTranscriptionOnRandomSupports() {
    for (long seed = 1; seed <= 40; seed++) {
      RandomGradients r = new RandomGradients(seed, 4, 7, 0.35);
      try (NDManager m = manager.newSubManager();
          TaskGradients g = r.load(m)) {
        try (CombinedGradient c = GradientProjection.agp().optSeed(seed).combine(g)) {
          List<Integer> order = new ArrayList<>();
          for (String t : c.report().stage2Order()) {
            order.add(r.tasks.indexOf(t));
          }
          List<NDArray> expected = new ReferenceStyleAgp(m).combine(r.weighted(m), order);
          assertSameTotals(expected, c, m, 1e-9, "seed " + seed);
        }
      }
    }
  }

  @Test
  void withoutConflictsAgpIsOneAnchorPerCapabilityPlusTheFollowers() {
    RandomGradients r = new RandomGradients(3, 4, 5, 0.0);
    for (List<double[]> perParam : r.values) {
      for (double[] v : perParam) {
        for (int i = 0; i < v.length; i++) {
          v[i] = Math.abs(v[i]); // all dot products positive
        }
      }
    }
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m);
        CombinedGradient c = GradientProjection.agp().combine(g)) {
      assertEquals(0, c.report().projectionsFired());
      for (int p = 0; p < r.shapes.size(); p++) {
        double[] coef = c.coefficients(p);
        assertClose(3 * r.weights[0], coef[0], 1e-15, 0, "anchor coefficient");
        for (int k = 1; k < 4; k++) {
          assertClose(r.weights[k], coef[k], 1e-15, 0, "follower coefficient");
        }
      }
    }
  }

  @Test
  void averagingCountsTheAnchorOnce() {
    RandomGradients r = new RandomGradients(5, 4, 5, 0.2);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m)) {
      g.stage2Order(List.of("t2", "t3", "t1"));
      try (CombinedGradient plain = GradientProjection.agp().combine(g);
          CombinedGradient avg = GradientProjection.agp().optAverageCapabilities(true).combine(g)) {
        for (int p = 0; p < r.shapes.size(); p++) {
          double[] a = plain.coefficients(p);
          double[] b = avg.coefficients(p);
          for (int k = 0; k < 4; k++) {
            assertClose(a[k] / 3, b[k], 1e-15, 0, "averaged coefficient");
          }
        }
      }
    }
  }

  @Test
  void scalingEveryGradientScalesTheUpdate() {
    RandomGradients small = new RandomGradients(11, 4, 6, 0.3);
    RandomGradients large = new RandomGradients(11, 4, 6, 0.3).scaled(1000);
    try (NDManager m = manager.newSubManager();
        TaskGradients gs = small.load(m);
        TaskGradients gl = large.load(m)) {
      gs.stage2Order(List.of("t1", "t2", "t3"));
      gl.stage2Order(List.of("t1", "t2", "t3"));
      try (CombinedGradient cs = GradientProjection.agp().combine(gs);
          CombinedGradient cl = GradientProjection.agp().combine(gl)) {
        for (int p = 0; p < small.shapes.size(); p++) {
          NDArray a = cs.materialize(p, m);
          NDArray b = cl.materialize(p, m);
          if (a == null) {
            assertNull(b);
            continue;
          }
          double[] x = a.toDoubleArray();
          double[] y = b.toDoubleArray();
          for (int i = 0; i < x.length; i++) {
            assertClose(1000 * x[i], y[i], 1e-9, 1e-12, "scaled update");
          }
        }
      }
    }
  }

  @Test
  void aRecordedOrderReplaysBitForBit() {
    RandomGradients r = new RandomGradients(17, 4, 6, 0.3);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m);
        CombinedGradient drawn = GradientProjection.agp().optSeed(99).combine(g)) {
      List<String> order = drawn.report().stage2Order();
      assertEquals(3, order.size());
      try (TaskGradients again = r.load(m)) {
        again.stage2Order(order);
        try (CombinedGradient replayed = GradientProjection.agp().optSeed(12345).combine(again)) {
          assertEquals(order, replayed.report().stage2Order());
          for (int p = 0; p < r.shapes.size(); p++) {
            assertArrayEquals(drawn.coefficients(p), replayed.coefficients(p));
          }
        }
      }
    }
  }

  @Test
  void theSameSeedDrawsTheSameOrders() {
    GradientProjection a = GradientProjection.agp().optSeed(7);
    GradientProjection b = GradientProjection.agp().optSeed(7);
    RandomGradients r = new RandomGradients(23, 4, 3, 0.0);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m)) {
      List<List<String>> orders = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        try (CombinedGradient x = a.combine(g);
            CombinedGradient y = b.combine(g)) {
          assertEquals(x.report().stage2Order(), y.report().stage2Order());
          orders.add(x.report().stage2Order());
        }
      }
      assertTrue(orders.stream().distinct().count() > 1, "the order is drawn, not fixed");
      long state = a.random().state();
      GradientProjection c = GradientProjection.agp();
      c.random().restore(state);
      try (CombinedGradient x = a.combine(g);
          CombinedGradient y = c.combine(g)) {
        assertEquals(x.report().stage2Order(), y.report().stage2Order());
      }
    }
  }

  @Test
  void stageOneLeavesTheResidualConflictOutsideTheFollowersSupport() {
    // anchor on both parameters, follower on parameter 0 only: the reference removes the anchor's
    // component on parameter 0 while dividing by the anchor's full norm.
    try (NDManager m = manager.newSubManager();
        TaskGradients g =
            twoParams(m, new double[] {1, 0}, new double[] {1}, new double[] {-2, 1})) {
      double dot = -2;
      double fullNorm = 1 + 0 + 1;
      double supportNorm = 1;
      try (CombinedGradient c = GradientProjection.stage1Only().combine(g)) {
        ProjectionStep s = c.report().stage1().get(0);
        assertTrue(s.projected());
        assertClose(dot / fullNorm, s.coefficient(), 1e-15, 0, "coefficient");
        // f' = f - coef * a on f's support, so <f', a> = dot * (1 - |a on S|^2 / |a|^2)
        double[] merged0 = c.materialize(0, m).toDoubleArray();
        double[] fPrime = {merged0[0] - 1, merged0[1] - 0};
        double residual = fPrime[0] * 1 + fPrime[1] * 0;
        assertClose(dot * (1 - supportNorm / fullNorm), residual, 1e-12, 1e-15, "residual");
        // parameter 1 (follower absent): merged = anchor only
        assertArrayEquals(new double[] {1}, c.materialize(1, m).toDoubleArray(), 0);
      }
      try (CombinedGradient dense = GradientProjection.stage1Only().optDense(true).combine(g)) {
        double[] m0 = dense.materialize(0, m).toDoubleArray();
        double[] m1 = dense.materialize(1, m).toDoubleArray();
        double residual = (m0[0] - 1) * 1 + (m0[1] - 0) * 0 + (m1[0] - 1) * 1;
        assertClose(0, residual, 0, 1e-12, "dense projection leaves no conflict");
      }
    }
  }

  @Test
  void pcgradMatchesTheTextbookExample() {
    // g1 = (1, 0), g2 = (-1, 1): g1' = (0.5, 0.5), g2' = (0, 1), sum = (0.5, 1.5)
    try (NDManager m = manager.newSubManager();
        TaskGradients g =
            TaskGradients.create(m, List.of("a", "b"), List.of(new Shape(2)), DataType.FLOAT64)) {
      g.snapshot("a", List.of(m.create(new double[] {1, 0})));
      g.snapshot("b", List.of(m.create(new double[] {-1, 1})));
      try (CombinedGradient c = GradientProjection.pcgrad().combine(g)) {
        assertArrayEquals(new double[] {0.5, 1.5}, c.materialize(0, m).toDoubleArray(), 1e-15);
        assertEquals(2, c.report().projectionsFired());
      }
      try (CombinedGradient c = GradientProjection.none().combine(g)) {
        assertArrayEquals(new double[] {0, 1}, c.materialize(0, m).toDoubleArray(), 0);
        assertEquals(0, c.report().hostSynchronisations());
      }
    }
  }

  @Test
  void stageTwoOnlySkipsTheAnchorProjection() {
    // anchor (1, 0); followers f1 = (-1, 1), f2 = (0, -1): merged m1 = (0, 1), m2 = (1, -1).
    // <m1, m2> = -1 < 0: t1 = m1 - (-1/2) m2 = (0.5, 0.5); t2 = m2 - (-1/1) m1 = (1, 0).
    try (NDManager m = manager.newSubManager();
        TaskGradients g =
            TaskGradients.create(
                m, List.of("ce", "p", "r"), List.of(new Shape(2)), DataType.FLOAT64)) {
      g.snapshot("ce", List.of(m.create(new double[] {1, 0})));
      g.snapshot("p", List.of(m.create(new double[] {-1, 1})));
      g.snapshot("r", List.of(m.create(new double[] {0, -1})));
      g.stage2Order(List.of("p", "r"));
      try (CombinedGradient c = GradientProjection.stage2Only().combine(g)) {
        assertTrue(c.report().stage1().isEmpty());
        assertArrayEquals(new double[] {1.5, 0.5}, c.materialize(0, m).toDoubleArray(), 1e-15);
      }
      try (CombinedGradient c = GradientProjection.stage1Only().combine(g)) {
        // f1 conflicts with the anchor: f1' = (0, 1); f2 does not (dot 0). Sum of merged:
        // (1, 1) + (1, -1) = (2, 0)
        assertTrue(c.report().stage2().isEmpty());
        assertArrayEquals(new double[] {2, 0}, c.materialize(0, m).toDoubleArray(), 1e-15);
      }
    }
  }

  @Test
  void absentEverywhereStaysAbsentAndZeroVectorsNeverProject() {
    try (NDManager m = manager.newSubManager();
        TaskGradients g =
            TaskGradients.create(
                m, List.of("ce", "p"), List.of(new Shape(2), new Shape(3)), DataType.FLOAT64)) {
      g.snapshot("ce", java.util.Arrays.asList(m.zeros(new Shape(2), DataType.FLOAT64), null));
      g.snapshot("p", java.util.Arrays.asList(m.create(new double[] {-1, 2}), null));
      try (CombinedGradient c = GradientProjection.agp().combine(g)) {
        assertEquals(0, c.report().projectionsFired());
        assertEquals(0.0, c.report().stage1().get(0).dot());
        assertArrayEquals(new double[] {-1, 2}, c.materialize(0, m).toDoubleArray(), 0);
        assertNull(c.materialize(1, m));
        NDArray untouched = m.create(new double[] {5, 6, 7});
        c.addTo(1, untouched);
        assertArrayEquals(new double[] {5, 6, 7}, untouched.toDoubleArray(), 0);
      }
    }
  }

  @Test
  void aNonFiniteGradientIsRefusedBeforeAnythingIsWritten() {
    try (NDManager m = manager.newSubManager();
        TaskGradients g =
            TaskGradients.create(m, List.of("ce", "p"), List.of(new Shape(2)), DataType.FLOAT32)) {
      g.snapshot("ce", List.of(m.create(new float[] {1, 2})));
      g.snapshot("p", List.of(m.create(new float[] {Float.NaN, 2})));
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> GradientProjection.agp().combine(g));
      assertEquals(List.of("p"), e.tasks());
    }
  }

  @Test
  void packedAndPerParameterLayoutsCombineAlike() {
    for (long seed = 40; seed < 46; seed++) {
      RandomGradients r = new RandomGradients(seed, 4, 7, 0.3);
      try (NDManager m = manager.newSubManager();
          TaskGradients packed = r.load(m);
          TaskGradients separate = r.load(m, 0)) {
        assertNotNull(packed.packed(), "small gradients are stored packed");
        assertNull(separate.packed());
        assertArrayEquals(separate.norms(), packed.norms(), 1e-12);
        for (GradientProjection projection :
            List.of(GradientProjection.agp(), GradientProjection.pcgrad())) {
          try (CombinedGradient a = projection.optSeed(seed).combine(packed);
              CombinedGradient b = projection.optSeed(seed).combine(separate)) {
            for (int p = 0; p < r.shapes.size(); p++) {
              double[] x = a.materialize(p, m).toDoubleArray();
              double[] y = b.materialize(p, m).toDoubleArray();
              for (int i = 0; i < x.length; i++) {
                assertEquals(y[i], x[i], 1e-12 * (1 + Math.abs(y[i])), "seed " + seed + ", p" + p);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void zeroRowsBecomeAbsentInBothLayouts() {
    List<Shape> shapes = List.of(new Shape(2), new Shape(3), new Shape(1, 2), new Shape(1));
    for (long limit : new long[] {TaskGradients.PACK_LIMIT_BYTES, 0}) {
      try (NDManager m = manager.newSubManager();
          TaskGradients g =
              TaskGradients.create(m, List.of("ce", "a"), shapes, DataType.FLOAT32, limit)) {
        assertEquals(limit == 0, g.packed() == null);
        g.snapshot(
            "ce",
            List.of(
                m.create(new float[] {0, 0}), // zero: absent
                m.create(new float[] {0, 1e-30f, 0}), // tiny but not zero: present
                m.create(new float[] {-0f, 0f}, new Shape(1, 2)), // -0 is zero: absent
                m.create(new float[] {Float.NaN}))); // NaN is not zero: present
        g.snapshot(
            "a",
            List.of(
                m.create(new float[] {1, 0}),
                m.create(new float[] {0, 0, 0}),
                m.create(new float[] {0, 3}, new Shape(1, 2)),
                m.create(new float[] {0})));
        g.markZeroRowsAbsent();
        boolean[][] expected = {{false, true, false, true}, {true, false, true, false}};
        for (int k = 0; k < 2; k++) {
          for (int p = 0; p < shapes.size(); p++) {
            assertEquals(
                expected[k][p], g.isPresent(k, p), "limit " + limit + ", task " + k + ", p" + p);
          }
        }
      }
    }
  }

  @Test
  void reusingTheBuffersLeaksNothing() {
    RandomGradients r = new RandomGradients(31, 4, 6, 0.3);
    try (NDManager m = manager.newSubManager();
        TaskGradients g = r.load(m)) {
      GradientProjection agp = GradientProjection.agp();
      NDArray target = m.zeros(r.shapes.get(0), DataType.FLOAT64);
      int before = manager.getManagedArrays().size();
      for (int step = 0; step < 100; step++) {
        try (NDManager stepManager = m.newSubManager()) {
          for (int k = 0; k < 4; k++) {
            g.snapshot(r.tasks.get(k), r.arrays(stepManager, k, 1.0 + step));
          }
          g.markZeroRowsAbsent();
          try (CombinedGradient c = agp.combine(g)) {
            c.addTo(0, target);
          }
        }
      }
      assertEquals(before, manager.getManagedArrays().size());
      assertNotEquals(0.0, target.abs().sum().getDouble());
    }
  }

  private static TaskGradients twoParams(
      NDManager m, double[] anchor0, double[] anchor1, double[] follower0) {
    TaskGradients g =
        TaskGradients.create(
            m, List.of("ce", "p"), List.of(new Shape(2), new Shape(1)), DataType.FLOAT64);
    g.snapshot("ce", List.of(m.create(anchor0), m.create(anchor1)));
    g.snapshot("p", java.util.Arrays.asList(m.create(follower0), null));
    return g;
  }

  private static void assertSameTotals(
      List<NDArray> expected, CombinedGradient c, NDManager m, double rtol, String what) {
    for (int p = 0; p < expected.size(); p++) {
      NDArray actual = c.materialize(p, m);
      if (expected.get(p) == null) {
        assertNull(actual, what + ": parameter " + p + " should be absent");
        continue;
      }
      double[] want = expected.get(p).toDoubleArray();
      double[] got = actual.toDoubleArray();
      for (int i = 0; i < want.length; i++) {
        assertClose(want[i], got[i], rtol, 1e-12, what + " param " + p);
      }
    }
  }
}
