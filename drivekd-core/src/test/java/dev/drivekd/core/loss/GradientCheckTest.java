package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.testing.GradientCheck;
import dev.drivekd.core.testing.Tensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Gradients of every loss against central finite differences in float64, on a right-padded batch of
 * two samples; the per-sample values are weighted so that each sample's gradient is checked.
 */
class GradientCheckTest {

  private static final double TOLERANCE = 1e-6;
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

  /** Sample 0: t i i t a (length 5); sample 1: i t a + padding (length 3); labels for CE. */
  static TokenLayout layout() {
    return TokenLayout.fromLabels(
        new boolean[][] {{false, true, true, false, false}, {true, false, false, false, false}},
        new long[][] {{-100, -100, -100, -100, 2}, {-100, -100, 1, -100, -100}},
        new int[] {5, 3});
  }

  private static NDArray weighted(NDArray perSample) {
    return perSample.mul(perSample.getManager().create(new double[] {0.7, 1.3})).sum();
  }

  private static void checkDistillation(DistillationLoss loss, long width, long seed) {
    Random random = new Random(seed);
    Shape shape = width < 0 ? new Shape(B, L, L) : new Shape(B, L, width);
    double[] student = Tensors.uniform(random, (int) shape.size(), 0.05, 1);
    double[] teacher = Tensors.uniform(random, (int) shape.size(), 0.05, 1);
    Function<NDArray, NDArray> f =
        x -> weighted(loss.perSample(x, x.getManager().create(teacher, shape), layout()));
    GradientCheck.assertMatches(manager, student, shape, f, TOLERANCE);
  }

  @Test
  void maskedMse() {
    checkDistillation(AttentionLoss.maskedMse(), -1, 1);
  }

  @Test
  void causalMaskedMse() {
    checkDistillation(AttentionLoss.causalMaskedMse(), -1, 2);
  }

  @Test
  void fullMse() {
    checkDistillation(AttentionLoss.fullMse(), -1, 3);
  }

  @Test
  void maskedCosine() {
    checkDistillation(AttentionLoss.maskedCosine(), -1, 4);
  }

  @Test
  void fullCosine() {
    checkDistillation(AttentionLoss.fullCosine(), -1, 5);
  }

  @Test
  void hiddenStateMse() {
    checkDistillation(HiddenStateLoss.mse(), 3, 6);
  }

  @Test
  void hiddenStateCosine() {
    checkDistillation(HiddenStateLoss.cosine(), 3, 7);
  }

  @Test
  void logitKl() {
    checkDistillation(LogitKlLoss.withTemperature(2), 4, 8);
  }

  @Test
  void nextTokenCrossEntropy() {
    Random random = new Random(9);
    Shape shape = new Shape(B, L, 4);
    double[] logits = Tensors.uniform(random, (int) shape.size(), -2, 2);
    Function<NDArray, NDArray> f =
        x -> weighted(NextTokenCrossEntropy.create().perSample(x, layout()));
    GradientCheck.assertMatches(manager, logits, shape, f, TOLERANCE);
  }

  @Test
  void capabilityLossesThroughHeadAveraging() {
    checkCapability(CapabilitySignalLoss.perception(), 0, 10);
    checkCapability(CapabilitySignalLoss.planning(), 1, 11);
    checkCapability(CapabilitySignalLoss.reasoning(), 0, 12);
    checkCapability(CapabilitySignalLoss.reasoning(LayerRange.of(1, -2)), 1, 13);
  }

  /** Varies the student's layer {@code layer} ([B,H,L,L], H = 2) of a 3-layer student. */
  private static void checkCapability(CapabilitySignalLoss loss, int layer, long seed) {
    Random random = new Random(seed);
    Shape shape = new Shape(B, 2, L, L);
    List<double[]> students = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      students.add(Tensors.uniform(random, (int) shape.size(), 0.05, 1));
    }
    List<double[]> teachers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      teachers.add(Tensors.uniform(random, (int) shape.size(), 0.05, 1));
    }
    Function<NDArray, NDArray> f =
        x -> {
          NDManager m = x.getManager();
          List<NDArray> s = new ArrayList<>();
          for (int i = 0; i < students.size(); i++) {
            s.add(i == layer ? x : m.create(students.get(i), shape));
          }
          List<NDArray> t = new ArrayList<>();
          for (double[] teacher : teachers) {
            t.add(m.create(teacher, shape));
          }
          return weighted(
              loss.perSample(LayerMaps.ofProbabilities(s), LayerMaps.ofProbabilities(t), layout()));
        };
    GradientCheck.assertMatches(manager, students.get(layer), shape, f, TOLERANCE);
  }
}
