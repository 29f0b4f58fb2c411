package dev.drivekd.core.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.TokenLayout;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tiny tensors with exact expected values for every loss. */
class HandComputedLossTest {

  private static final double EXACT = 1e-12;
  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** text, image, text: text-to-vision pairs (0,1) and (2,1); (0,1) is causally zero. */
  private static TokenLayout textImageText() {
    return TokenLayout.of(
        new boolean[][] {{false, true, false}},
        new boolean[][] {{false, false, false}},
        new int[] {3});
  }

  private static NDArray map(double... values) {
    int n = (int) Math.round(Math.sqrt(values.length));
    return manager.create(values, new Shape(1, n, n));
  }

  private static double value(NDArray array) {
    return array.getDouble();
  }

  @Test
  void maskedMseCountsCausallyZeroPairs() {
    NDArray s = map(0, 0, 0, 0, 0, 0, 0, 0.5, 0);
    NDArray t = map(0, 0.1, 0, 0, 0, 0, 0, 0.25, 0);
    // (0.1² + 0.25²) / 2
    assertEquals(0.03625, value(AttentionLoss.maskedMse().evaluate(s, t, textImageText())), EXACT);
    // causally valid pairs only: (2,1) alone
    assertEquals(
        0.0625, value(AttentionLoss.causalMaskedMse().evaluate(s, t, textImageText())), EXACT);
  }

  @Test
  void fullMseIsThePlainMean() {
    TokenLayout twoText = TokenLayout.withoutVisionPositions(1, 2);
    assertEquals(
        0.125,
        value(AttentionLoss.fullMse().evaluate(map(1, 0, 0.5, 0.5), map(1, 0, 0, 1), twoText)),
        EXACT);
  }

  @Test
  void cosineVariants() {
    NDArray s = map(0, 3, 0, 0, 0, 0, 0, 4, 0);
    NDArray t = map(0, 4, 0, 0, 0, 0, 0, 3, 0);
    // 1 - 24/25
    assertEquals(0.04, value(AttentionLoss.maskedCosine().evaluate(s, t, textImageText())), EXACT);
    TokenLayout twoText = TokenLayout.withoutVisionPositions(1, 2);
    // a = (1,0,0,1), b = (1,0,1,0): 1 - 1/2
    assertEquals(
        0.5,
        value(AttentionLoss.fullCosine().evaluate(map(1, 0, 0, 1), map(1, 0, 1, 0), twoText)),
        EXACT);
    // an empty mask contributes an attached zero, not 1 - 0
    assertEquals(
        0.0,
        value(AttentionLoss.maskedCosine().evaluate(map(1, 0, 0, 1), map(1, 0, 1, 0), twoText)),
        EXACT);
  }

  @Test
  void hiddenStateLosses() {
    NDArray s = manager.create(new double[] {1, 2, 3, 4}, new Shape(1, 2, 2));
    NDArray t = manager.create(new double[] {1, 0, 3, 3}, new Shape(1, 2, 2));
    TokenLayout both = TokenLayout.withoutVisionPositions(1, 2);
    assertEquals(1.25, value(HiddenStateLoss.mse().evaluate(s, t, both)), EXACT);
    TokenLayout first =
        TokenLayout.of(
            new boolean[][] {{false, false}}, new boolean[][] {{false, false}}, new int[] {1});
    assertEquals(2.0, value(HiddenStateLoss.mse().evaluate(s, t, first)), EXACT);
    NDArray a = manager.create(new double[] {1, 0, 1, 1}, new Shape(1, 2, 2));
    NDArray b = manager.create(new double[] {0, 1, 2, 2}, new Shape(1, 2, 2));
    assertEquals(0.5, value(HiddenStateLoss.cosine().evaluate(a, b, both)), EXACT);
    NDArray wide = manager.create(new double[] {1, 0, 9, 1, 1, 9}, new Shape(1, 2, 3));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> HiddenStateLoss.mse().evaluate(wide, b, both));
    assertTrue(e.getMessage().contains("projection"));
    // a projection that drops the last feature makes the sizes agree
    assertEquals(
        0.5,
        value(
            HiddenStateLoss.cosine()
                .withProjection(x -> x.get(":, :, 0:2"))
                .evaluate(wide, b, both)),
        EXACT);
  }

  @Test
  void logitKlOnPredictingPositions() {
    // label 1 is supervised, so position 0 is the only predicting position
    TokenLayout layout =
        TokenLayout.fromLabels(
            new boolean[][] {{false, false}}, new long[][] {{-100, 1}}, new int[] {2});
    double expected = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
    NDArray s = manager.create(new double[] {0, 0, 5, -5}, new Shape(1, 2, 2));
    NDArray t1 = manager.create(new double[] {Math.log(3), 0, -7, 7}, new Shape(1, 2, 2));
    assertEquals(expected, value(LogitKlLoss.withTemperature(1).evaluate(s, t1, layout)), EXACT);
    NDArray t2 = manager.create(new double[] {2 * Math.log(3), 0, -7, 7}, new Shape(1, 2, 2));
    assertEquals(
        4 * expected, value(LogitKlLoss.withTemperature(2).evaluate(s, t2, layout)), EXACT);
  }

  @Test
  void crossEntropyUsesTheNextTokenShift() {
    NDArray logits = manager.create(new double[] {0, 0, Math.log(3), 0, 9, -9}, new Shape(1, 3, 2));
    NDArray labels = manager.create(new long[] {-100, 1, 0}, new Shape(1, 3));
    double expected = (Math.log(2) - Math.log(0.75)) / 2;
    assertEquals(expected, value(NextTokenCrossEntropy.create().evaluate(logits, labels)), EXACT);
    NDArray bf16 = logits.toType(DataType.FLOAT16, false);
    NDArray upcast = NextTokenCrossEntropy.create().evaluate(bf16, labels);
    assertEquals(DataType.FLOAT32, upcast.getDataType());
    assertEquals(expected, upcast.getFloat(), 1e-3);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            NextTokenCrossEntropy.create()
                .evaluate(logits, manager.create(new long[] {-100, 2, 0}, new Shape(1, 3))));
  }

  @Test
  void reasoningAveragesTheTeacherGroup() {
    // N_s = 2 -> student [0]; N_t = 3 -> teacher [0, 1]; group of 2: target (1 + 0) / 2
    LayerMaps student = LayerMaps.ofHeadAveraged(List.of(map(1), map(0)));
    LayerMaps teacher = LayerMaps.ofHeadAveraged(List.of(map(1), map(0), map(7)));
    TokenLayout one = TokenLayout.withoutVisionPositions(1, 1);
    assertEquals(
        0.25, value(CapabilitySignalLoss.reasoning().evaluate(student, teacher, one)), EXACT);
  }

  @Test
  void lowPrecisionInputsAreComputedInFloat32() {
    NDArray s = map(0, 0, 0, 0, 0, 0, 0, 0.5, 0).toType(DataType.FLOAT16, false);
    NDArray t = map(0, 0.1, 0, 0, 0, 0, 0, 0.25, 0).toType(DataType.FLOAT16, false);
    NDArray loss = AttentionLoss.maskedMse().evaluate(s, t, textImageText());
    assertEquals(DataType.FLOAT32, loss.getDataType());
    assertEquals(0.03625, loss.getFloat(), 1e-4);
  }

  @Test
  void attachedZeroHasZeroGradientAndDetachedValuesCannotBackward() {
    NDArray s = map(0.2, 0.3, 0.4, 0.5);
    s.setRequiresGradient(true);
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray zero =
          AttentionLoss.maskedMse()
              .evaluate(s, map(1, 1, 1, 1), TokenLayout.withoutVisionPositions(1, 2));
      assertEquals(0.0, zero.getDouble());
      collector.backward(zero);
    }
    assertArrayEquals(new double[] {0, 0, 0, 0}, s.getGradient().toDoubleArray(), 0.0);
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray detached = map(1, 2, 3, 4).sum();
      assertThrows(EngineException.class, () -> collector.backward(detached));
    }
  }
}
