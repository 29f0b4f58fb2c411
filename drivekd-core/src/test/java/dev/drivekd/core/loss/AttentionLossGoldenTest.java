package dev.drivekd.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.core.attention.AttentionSignal;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.testing.Tensors;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code attention_losses.json}: float64 at rtol 1e-6 / atol 1e-12, and the same
 * inputs cast to float32 at rtol 1e-5.
 */
class AttentionLossGoldenTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @TestFactory
  Stream<DynamicTest> float64() {
    return cases(DataType.FLOAT64, 1e-6, 1e-12);
  }

  @TestFactory
  Stream<DynamicTest> float32() {
    return cases(DataType.FLOAT32, 1e-5, 1e-9);
  }

  private static Stream<DynamicTest> cases(DataType type, double rtol, double atol) {
    JsonNode cases = ReferenceFiles.goldenCases("attention_losses.json");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(
            c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c, type, rtol, atol)));
  }

  private static void check(JsonNode c, DataType type, double rtol, double atol) {
    JsonNode in = c.get("inputs");
    JsonNode expected = c.get("expected");
    int batch = in.get("B").asInt();
    int length = in.get("L").asInt();
    try (NDManager sub = manager.newSubManager()) {
      List<NDArray> studentProbs =
          arrays(sub, in.get("student_attentions"), batch, in.get("H_s").asInt(), length, type);
      List<NDArray> teacherProbs =
          arrays(sub, in.get("teacher_attentions"), batch, in.get("H_t").asInt(), length, type);
      assertEquals(in.get("N_s").asInt(), studentProbs.size());
      assertEquals(in.get("N_t").asInt(), teacherProbs.size());
      TokenLayout layout = layout(in.get("is_image"), batch, length);
      LayerMaps student = LayerMaps.ofProbabilities(studentProbs);
      LayerMaps teacher = LayerMaps.ofProbabilities(teacherProbs);
      LayerRange range =
          LayerRange.of(
              in.get("intermediate_layer_start").asInt(), in.get("intermediate_layer_end").asInt());

      for (NDArray p : studentProbs) {
        p.setRequiresGradient(true);
      }
      CapabilitySignalLoss perception = CapabilitySignalLoss.perception();
      CapabilitySignalLoss reasoning = CapabilitySignalLoss.reasoning(range);
      CapabilitySignalLoss planning = CapabilitySignalLoss.planning();
      // Each value is backpropagated: a detached result would make backward throw, so this checks
      // that every value (attached zeros included) stays in the student's graph.
      checkAttached(
          expected,
          "perception_first_att_Atv",
          perception,
          student,
          teacher,
          layout,
          type,
          rtol,
          atol);
      checkAttached(
          expected,
          "planning_penult_att_Atv",
          planning,
          student,
          teacher,
          layout,
          type,
          rtol,
          atol);
      NDArray gradient = studentProbs.get(0).getGradient();
      assertTrue(
          Arrays.stream(gradient.toType(DataType.FLOAT64, false).toDoubleArray())
              .allMatch(Double::isFinite));
      if (expected.get("perception_first_att_Atv").asDouble() == 0.0
          && expected.get("planning_penult_att_Atv").asDouble() == 0.0) {
        assertEquals(0.0, gradient.abs().sum().toType(DataType.FLOAT64, false).getDouble());
      }
      checkAttached(
          expected,
          "reasoning_intermediate",
          reasoning,
          student,
          teacher,
          layout,
          type,
          rtol,
          atol);

      JsonNode perLayer = expected.get("intermediate_per_layer");
      List<LayerTerm> terms = reasoning.perLayer(student, teacher, layout);
      assertEquals(perLayer.size(), terms.size());
      for (int i = 0; i < terms.size(); i++) {
        JsonNode want = perLayer.get(i);
        assertEquals(want.get("student_layer").asInt(), terms.get(i).group().student());
        List<Integer> teachers = new ArrayList<>();
        want.get("teacher_layers").forEach(n -> teachers.add(n.asInt()));
        assertEquals(teachers, terms.get(i).group().teachers());
        assertClose(
            want.get("mse_full").asDouble(),
            terms.get(i).perSample().mean(),
            rtol,
            atol,
            "layer " + i);
      }

      NDArray fullFirst =
          CapabilitySignalLoss.of("full1", AttentionSignal.firstLayer(), AttentionLoss.fullMse())
              .evaluate(student, teacher, layout);
      NDArray fullPenult =
          CapabilitySignalLoss.of(
                  "fullPenult", AttentionSignal.penultimateLayer(), AttentionLoss.fullMse())
              .evaluate(student, teacher, layout);
      assertValue(expected, "full_mse_first_layer", fullFirst, type, rtol, atol);
      assertValue(expected, "full_mse_penult_layer", fullPenult, type, rtol, atol);

      JsonNode counts = expected.get("atv_mask_count");
      if (counts != null && !counts.isNull()) {
        assertEquals(batch, counts.size());
        NDArray mask = layout.textToVisionMask(sub).toType(DataType.INT64, false);
        long[] fromMask = mask.sum(new int[] {1, 2}).toLongArray();
        for (int b = 0; b < batch; b++) {
          assertEquals(counts.get(b).asLong(), layout.textToVisionPairCount(b));
          assertEquals(counts.get(b).asLong(), fromMask[b]);
        }
      }
    }
  }

  private static void checkAttached(
      JsonNode expected,
      String key,
      CapabilitySignalLoss loss,
      LayerMaps student,
      LayerMaps teacher,
      TokenLayout layout,
      DataType type,
      double rtol,
      double atol) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray value = loss.evaluate(student, teacher, layout);
      assertValue(expected, key, value, type, rtol, atol);
      assertTrue(expected.get(key + "_attached").asBoolean());
      collector.backward(value);
    }
  }

  private static void assertValue(
      JsonNode expected, String key, NDArray actual, DataType type, double rtol, double atol) {
    assertEquals(type, actual.getDataType(), key + " dtype");
    assertClose(expected.get(key).asDouble(), actual, rtol, atol, key);
  }

  private static void assertClose(
      double expected, NDArray actual, double rtol, double atol, String what) {
    double value = actual.toType(DataType.FLOAT64, false).getDouble();
    assertTrue(
        Tensors.close(value, expected, rtol, atol),
        what + ": expected " + expected + ", got " + value);
  }

  private static List<NDArray> arrays(
      NDManager sub, JsonNode layers, int batch, int heads, int length, DataType type) {
    List<NDArray> out = new ArrayList<>();
    Shape shape = new Shape(batch, heads, length, length);
    for (JsonNode layer : layers) {
      NDArray array = Tensors.fromJson(sub, layer, shape);
      out.add(type == DataType.FLOAT64 ? array : array.toType(type, false));
    }
    return out;
  }

  private static TokenLayout layout(JsonNode isImage, int batch, int length) {
    if (isImage == null || isImage.isNull()) {
      return TokenLayout.withoutVisionPositions(batch, length);
    }
    boolean[][] image = new boolean[batch][length];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < length; i++) {
        image[b][i] = isImage.get(b).get(i).asBoolean();
      }
    }
    int[] lengths = new int[batch];
    Arrays.fill(lengths, length);
    return TokenLayout.of(image, new boolean[batch][length], lengths);
  }
}
