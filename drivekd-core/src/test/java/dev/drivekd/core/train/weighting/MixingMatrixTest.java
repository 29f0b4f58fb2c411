package dev.drivekd.core.train.weighting;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.gradproj.TaskGradients;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** {@link MixingMatrix}: hand cases, validation, and the mixing part of every agp.json case. */
class MixingMatrixTest {
  private static final String P = TaskKeys.of(Capability.PERCEPTION);
  private static final String R = TaskKeys.of(Capability.REASONING);
  private static final String D = TaskKeys.of(Capability.PLANNING);

  /**
   * agp.json records, per case, the normalised row, the active tasks in backward order and the
   * scalar each base gradient was multiplied by; all three must match exactly.
   */
  @TestFactory
  Stream<DynamicTest> agpGoldenMixing() {
    JsonNode cases = ReferenceFiles.goldenCases("agp.json");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> checkAgpCase(c)));
  }

  private static void checkAgpCase(JsonNode c) {
    JsonNode in = c.get("inputs");
    JsonNode expected = c.get("expected");
    double[] row = new double[3];
    int negative = -1;
    for (int t = 0; t < 3; t++) {
      row[t] = in.get("mix_row").get(t).asDouble();
      negative = negative < 0 && row[t] < 0 ? t : negative;
    }
    if (negative >= 0) {
      // drivekd's decision (architecture.md): a negative entry is refused, where the reference
      // clamps it to 0; the error names the row and the teacher column
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> MixingMatrix.replicated(row));
      String column = Capability.ofIndex(negative).key() + " teacher";
      assertTrue(e.getMessage().contains(column + " is negative"), e.getMessage());
      assertTrue(e.getMessage().contains("'perception'"), e.getMessage());
      return;
    }
    MixingMatrix matrix = MixingMatrix.replicated(row);
    LossWeighting weights =
        LossWeighting.staticWeights(DynamicWeightsGoldenTest.doubles(in.get("weights")));
    for (Capability sample : Capability.values()) {
      double[] normalised = matrix.row(sample);
      for (int t = 0; t < 3; t++) {
        assertEquals(expected.get("mix_normalized").get(t).asDouble(), normalised[t], 0.0);
      }
      List<String> order = new ArrayList<>();
      expected.get("task_order").forEach(k -> order.add(k.asText()));
      assertEquals(order, matrix.taskOrder(sample, weights));
      Map<String, Float> taskWeights = matrix.taskWeights(sample, weights);
      assertEquals(order, new ArrayList<>(taskWeights.keySet()));
      for (String key : order) {
        assertEquals(
            (float) expected.get("effective_weights").get(key).asDouble(),
            taskWeights.get(key),
            0f,
            key);
      }
      try (NDManager manager = NDManager.newBaseManager();
          TaskGradients g =
              TaskGradients.create(manager, order, List.of(new Shape(2)), DataType.FLOAT32)) {
        matrix.applyTo(g, sample, weights);
        for (int k = 0; k < order.size(); k++) {
          assertEquals((double) taskWeights.get(order.get(k)), g.weight(k), 0.0);
        }
      }
    }
  }

  @Test
  void paperDefaultRows() {
    MixingMatrix m = MixingMatrix.paperDefault();
    assertArrayEquals(new double[] {0.8, 0.1, 0.1}, m.row(Capability.PERCEPTION), 1e-15);
    assertArrayEquals(new double[] {0.1, 0.8, 0.1}, m.row(Capability.REASONING), 1e-15);
    assertArrayEquals(new double[] {0.1, 0.1, 0.8}, m.row(Capability.PLANNING), 1e-15);
    assertEquals(0.8, m.mix(Capability.PLANNING, Capability.PLANNING), 1e-15);
    // method.md 2.4: a perception sample starts with g_ce + 0.8 g_p + 0.1 g_r + 0.1 g_d
    Map<String, Float> w =
        m.taskWeights(
            Capability.PERCEPTION, LossWeighting.dynamic(TaskKeys.defaultStaticWeights()));
    assertEquals(Map.of(TaskKeys.CE, 1f, P, 0.8f, R, 0.1f, D, 0.1f), w);
  }

  @Test
  void rowsAreNormalised() {
    MixingMatrix m =
        MixingMatrix.of(new double[] {2, 1, 1}, new double[] {0, 3, 0}, new double[] {1, 1, 2});
    assertArrayEquals(new double[] {0.5, 0.25, 0.25}, m.row(Capability.PERCEPTION), 0.0);
    assertArrayEquals(new double[] {0, 1, 0}, m.row(Capability.REASONING), 0.0);
    assertArrayEquals(new double[] {2, 1, 1}, m.rawRow(Capability.PERCEPTION), 0.0);
    assertEquals(
        List.of(Capability.REASONING),
        m.activeTeachers(Capability.REASONING, TaskKeys.defaultStaticWeights()));
  }

  @Test
  void zeroStaticWeightRemovesTheTeacher() {
    Map<String, Double> statics = new LinkedHashMap<>(TaskKeys.defaultStaticWeights());
    statics.put(R, 0.0);
    LossWeighting w = LossWeighting.staticWeights(statics);
    MixingMatrix m = MixingMatrix.paperDefault();
    assertEquals(
        List.of(Capability.PERCEPTION, Capability.PLANNING),
        m.activeTeachers(Capability.REASONING, w));
    assertEquals(List.of(TaskKeys.CE, P, D), m.taskOrder(Capability.REASONING, w));
    assertEquals(0.1f, m.taskWeights(Capability.REASONING, w).get(P));
  }

  @Test
  void noActiveTeacherStillTrainsCe() {
    Map<String, Double> sft = Map.of(TaskKeys.CE, 1.0);
    LossWeighting w = LossWeighting.dynamic(sft);
    MixingMatrix m = MixingMatrix.identity();
    assertTrue(m.activeTeachers(Capability.PLANNING, w).isEmpty());
    assertEquals(List.of(TaskKeys.CE), m.taskOrder(Capability.PLANNING, w));
    assertEquals(Map.of(TaskKeys.CE, 1f), m.taskWeights(Capability.PLANNING, w));
  }

  @Test
  void validationMessagesNameTheRowAndEntry() {
    IllegalArgumentException negative =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                MixingMatrix.of(
                    new double[] {0.8, 0.1, 0.1},
                    new double[] {0.1, -0.2, 0.1},
                    new double[] {0, 0, 1}));
    assertTrue(negative.getMessage().contains("'reasoning'"), negative.getMessage());
    assertTrue(negative.getMessage().contains("reasoning teacher"), negative.getMessage());
    assertTrue(negative.getMessage().contains("negative"), negative.getMessage());

    IllegalArgumentException zero =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                MixingMatrix.of(
                    new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 0}));
    assertTrue(zero.getMessage().contains("'planning'"), zero.getMessage());
    assertTrue(zero.getMessage().contains("all zero"), zero.getMessage());

    assertThrows(
        IllegalArgumentException.class,
        () -> MixingMatrix.replicated(new double[] {1, Double.NaN, 0}));
    assertThrows(IllegalArgumentException.class, () -> MixingMatrix.replicated(new double[] {1}));
  }

  @Test
  void parsesTheCommandLineForm() {
    assertArrayEquals(
        new double[] {0.8, 0.1, 0.1}, MixingMatrix.parseRow(" 0.8, 0.1 ,0.1 ", "--mix-p"), 0.0);
    assertArrayEquals(
        new double[] {1, 0, 2}, MixingMatrix.parseRow("1,,0,2", "--mix-p"), 0.0, "blank skipped");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> MixingMatrix.parseRow("0.8,0.2", "--mix-p"));
    assertTrue(e.getMessage().contains("--mix-p"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MixingMatrix.parseRow("a,b,c", "--mix-p"));
    assertThrows(IllegalArgumentException.class, () -> MixingMatrix.parseRow("0,0,0", "--mix-p"));
  }

  @Test
  void applyToRejectsAnInactiveTask() {
    LossWeighting w = LossWeighting.staticWeights(TaskKeys.defaultStaticWeights());
    try (NDManager manager = NDManager.newBaseManager();
        TaskGradients g =
            TaskGradients.create(
                manager, List.of(TaskKeys.CE, R), List.of(new Shape(1)), DataType.FLOAT32)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> MixingMatrix.identity().applyTo(g, Capability.PERCEPTION, w));
      assertTrue(e.getMessage().contains(R), e.getMessage());
    }
  }
}
