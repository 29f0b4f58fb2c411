package dev.drivekd.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.testing.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A right-padded batch gives every sample the value it has alone ({@code B = 1}, no padding),
 * whatever the padding holds.
 */
class PaddingInvarianceTest {

  private static final int B = 2;
  private static final int L = 5;
  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  private static TokenLayout layout() {
    return GradientCheckTest.layout();
  }

  /** Sample {@code b} of a {@code [B, L, ...]} tensor, cut to its own length. */
  private static NDArray alone(NDArray batch, int b, int length, boolean square) {
    String index = b + ":" + (b + 1) + ", 0:" + length + (square ? ", 0:" + length : "");
    return batch.get(index);
  }

  private static void assertInvariant(
      BiFunction<NDArray, NDArray, NDArray> batched,
      BiFunction<Integer, TokenLayout, BiFunction<NDArray, NDArray, NDArray>> single,
      Shape shape,
      boolean square,
      long seed) {
    try (NDManager sub = manager.newSubManager()) {
      Random random = new Random(seed);
      NDArray s = sub.create(Tensors.uniform(random, (int) shape.size(), 0.05, 1), shape);
      NDArray t = sub.create(Tensors.uniform(random, (int) shape.size(), 0.05, 1), shape);
      double[] together = batched.apply(s, t).toDoubleArray();
      assertEquals(B, together.length);
      for (int b = 0; b < B; b++) {
        int length = layout().length(b);
        double one =
            single
                .apply(b, layout().sample(b))
                .apply(alone(s, b, length, square), alone(t, b, length, square))
                .getDouble();
        assertEquals(one, together[b], 1e-12 * Math.max(1, Math.abs(one)), "sample " + b);
      }
    }
  }

  private static void assertDistillation(DistillationLoss loss, long width, long seed) {
    boolean square = width < 0;
    Shape shape = square ? new Shape(B, L, L) : new Shape(B, L, width);
    assertInvariant(
        (s, t) -> loss.perSample(s, t, layout()),
        (b, one) -> (s, t) -> loss.evaluate(s, t, one),
        shape,
        square,
        seed);
  }

  @Test
  void attentionLosses() {
    assertDistillation(AttentionLoss.maskedMse(), -1, 1);
    assertDistillation(AttentionLoss.causalMaskedMse(), -1, 2);
    assertDistillation(AttentionLoss.fullMse(), -1, 3);
    assertDistillation(AttentionLoss.maskedCosine(), -1, 4);
    assertDistillation(AttentionLoss.fullCosine(), -1, 5);
  }

  @Test
  void hiddenStateAndLogitLosses() {
    assertDistillation(HiddenStateLoss.mse(), 3, 6);
    assertDistillation(HiddenStateLoss.cosine(), 3, 7);
    assertDistillation(LogitKlLoss.withTemperature(1.5), 4, 8);
  }

  @Test
  void nextTokenCrossEntropy() {
    assertInvariant(
        (logits, unused) -> NextTokenCrossEntropy.create().perSample(logits, layout()),
        (b, one) -> (logits, unused) -> NextTokenCrossEntropy.create().perSample(logits, one),
        new Shape(B, L, 4),
        false,
        9);
  }

  @Test
  void capabilityLosses() {
    for (CapabilitySignalLoss loss :
        List.of(
            CapabilitySignalLoss.perception(),
            CapabilitySignalLoss.reasoning(),
            CapabilitySignalLoss.planning())) {
      try (NDManager sub = manager.newSubManager()) {
        Random random = new Random(10);
        Shape shape = new Shape(B, 2, L, L);
        List<NDArray> s = new ArrayList<>();
        List<NDArray> t = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          s.add(sub.create(Tensors.uniform(random, (int) shape.size(), 0.05, 1), shape));
        }
        for (int i = 0; i < 4; i++) {
          t.add(sub.create(Tensors.uniform(random, (int) shape.size(), 0.05, 1), shape));
        }
        double[] together =
            loss.perSample(LayerMaps.ofProbabilities(s), LayerMaps.ofProbabilities(t), layout())
                .toDoubleArray();
        for (int b = 0; b < B; b++) {
          String index =
              b + ":" + (b + 1) + ", :, 0:" + layout().length(b) + ", 0:" + layout().length(b);
          List<NDArray> s1 = new ArrayList<>();
          List<NDArray> t1 = new ArrayList<>();
          s.forEach(x -> s1.add(x.get(index)));
          t.forEach(x -> t1.add(x.get(index)));
          double one =
              loss.evaluate(
                      LayerMaps.ofProbabilities(s1),
                      LayerMaps.ofProbabilities(t1),
                      layout().sample(b))
                  .getDouble();
          assertEquals(one, together[b], 1e-12, loss.key() + " sample " + b);
        }
      }
    }
  }
}
