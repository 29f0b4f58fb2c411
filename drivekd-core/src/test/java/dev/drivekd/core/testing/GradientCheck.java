package dev.drivekd.core.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;

/** Compares DJL autograd gradients with central finite differences in float64. */
public final class GradientCheck {

  private static final double STEP = 1e-6;

  private GradientCheck() {}

  /**
   * Asserts that the gradient of the scalar {@code loss(x)} at {@code data} agrees with central
   * differences: {@code ‖g − g_fd‖ / max(‖g‖, ‖g_fd‖, 1e-12) < tolerance}.
   *
   * @return the analytic gradient
   */
  public static double[] assertMatches(
      NDManager base,
      double[] data,
      Shape shape,
      Function<NDArray, NDArray> loss,
      double tolerance) {
    double[] analytic;
    try (NDManager manager = base.newSubManager()) {
      NDArray x = manager.create(data, shape);
      x.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray value = loss.apply(x);
        collector.backward(value);
      }
      analytic = x.getGradient().toDoubleArray();
    }
    double[] numeric = new double[data.length];
    for (int k = 0; k < data.length; k++) {
      double[] plus = data.clone();
      double[] minus = data.clone();
      plus[k] += STEP;
      minus[k] -= STEP;
      numeric[k] =
          (evaluate(base, plus, shape, loss) - evaluate(base, minus, shape, loss)) / (2 * STEP);
    }
    double diff = 0;
    double normA = 0;
    double normN = 0;
    for (int k = 0; k < data.length; k++) {
      diff += (analytic[k] - numeric[k]) * (analytic[k] - numeric[k]);
      normA += analytic[k] * analytic[k];
      normN += numeric[k] * numeric[k];
    }
    double relative =
        Math.sqrt(diff) / Math.max(Math.max(Math.sqrt(normA), Math.sqrt(normN)), 1e-12);
    assertTrue(
        relative < tolerance,
        "relative gradient error " + relative + " (|g| = " + Math.sqrt(normA) + ")");
    return analytic;
  }

  private static double evaluate(
      NDManager base, double[] data, Shape shape, Function<NDArray, NDArray> loss) {
    try (NDManager manager = base.newSubManager()) {
      return loss.apply(manager.create(data, shape)).getDouble();
    }
  }
}
