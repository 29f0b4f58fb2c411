package dev.drivekd.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.HeadAverage;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.testing.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Only the needed layers are requested, each once; no array outlives its step's sub-manager. */
class LayerRequestAndMemoryTest {

  private static final Shape SHAPE = new Shape(2, 2, 5, 5);
  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** A source that head-averages on request and records every requested layer. */
  private static LayerMaps counting(List<NDArray> probabilities, List<Integer> requests) {
    return LayerMaps.of(
        probabilities.size(),
        layer -> {
          requests.add(layer);
          return HeadAverage.of(probabilities.get(layer));
        });
  }

  private static List<NDArray> layers(NDManager m, int depth, long seed) {
    Random random = new Random(seed);
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < depth; i++) {
      out.add(m.create(Tensors.uniform(random, (int) SHAPE.size(), 0, 1), SHAPE));
    }
    return out;
  }

  private static void assertRequests(
      CapabilitySignalLoss loss, List<Integer> student, List<Integer> teacher) {
    try (NDManager sub = manager.newSubManager()) {
      List<Integer> studentRequests = new ArrayList<>();
      List<Integer> teacherRequests = new ArrayList<>();
      loss.evaluate(
          counting(layers(sub, 6, 1), studentRequests),
          counting(layers(sub, 9, 2), teacherRequests),
          GradientCheckTest.layout());
      assertEquals(student, studentRequests, loss + " student layers");
      assertEquals(teacher, teacherRequests, loss + " teacher layers");
    }
  }

  @Test
  void onlyRequestedLayersAreMaterialised() {
    assertRequests(CapabilitySignalLoss.perception(), List.of(0), List.of(0));
    assertRequests(CapabilitySignalLoss.planning(), List.of(4), List.of(7));
    // k = 5 student layers 0..4, m = 8 teacher layers 0..7, g = 4: each teacher layer once
    assertRequests(
        CapabilitySignalLoss.reasoning(), List.of(0, 1, 2, 3, 4), List.of(0, 1, 2, 3, 4, 5, 6, 7));
    assertRequests(
        CapabilitySignalLoss.reasoning(LayerRange.of(1, -3)),
        List.of(1, 2, 3),
        List.of(1, 2, 3, 4, 5, 6));
  }

  @Test
  void stepsInSubManagersLeaveNothingBehind() {
    TokenLayout layout = GradientCheckTest.layout();
    int before = manager.getManagedArrays().size();
    Random random = new Random(3);
    double[] studentData = Tensors.uniform(random, (int) SHAPE.size(), 0, 1);
    double[] teacherData = Tensors.uniform(random, (int) SHAPE.size(), 0, 1);
    for (int step = 0; step < 100; step++) {
      try (NDManager sub = manager.newSubManager()) {
        List<NDArray> student = new ArrayList<>();
        List<NDArray> teacher = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          student.add(sub.create(studentData, SHAPE));
          teacher.add(sub.create(teacherData, SHAPE));
        }
        student.forEach(a -> a.setRequiresGradient(true));
        int inputs = sub.getManagedArrays().size();
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          NDArray loss =
              CapabilitySignalLoss.reasoning()
                  .evaluate(
                      LayerMaps.ofProbabilities(student),
                      LayerMaps.ofProbabilities(teacher),
                      layout)
                  .add(
                      AttentionLoss.maskedCosine()
                          .evaluate(
                              HeadAverage.of(student.get(0)),
                              HeadAverage.of(teacher.get(0)),
                              layout));
          collector.backward(loss);
        }
        // Intermediates die in the losses' scopes: only the few result arrays remain.
        assertTrue(
            sub.getManagedArrays().size() - inputs <= 8,
            "arrays left in the step manager: " + (sub.getManagedArrays().size() - inputs));
      }
    }
    assertEquals(before, manager.getManagedArrays().size());
  }
}
