package dev.drivekd.eval.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BootstrapTest {

  private static ToDoubleFunction<int[]> meanOf(double[] values) {
    return s -> {
      double sum = 0;
      for (int i : s) {
        sum += values[i];
      }
      return sum / s.length;
    };
  }

  @Test
  void percentilesInterpolateBetweenOrderStatisticsAsNumpy() {
    double[] sorted = {1, 2, 3, 4, 5};
    assertEquals(1.1, Bootstrap.percentile(sorted, 0.025), 1e-12);
    assertEquals(4.9, Bootstrap.percentile(sorted, 0.975), 1e-12);
    assertEquals(3.0, Bootstrap.percentile(sorted, 0.5), 1e-12);
  }

  @Test
  void aConstantStatisticHasNoSpreadAndTheSeedMakesItReproducible() {
    Interval c = new Bootstrap(200, 1).interval(new int[] {0, 1, 2}, s -> 7.0);
    assertEquals(new Interval(7, 7, 7, 3), c);

    double[] coin = new double[400];
    for (int i = 0; i < 200; i++) {
      coin[i] = 1;
    }
    int[] all = IntStream.range(0, 400).toArray();
    Interval a = new Bootstrap(2000, 42).interval(all, meanOf(coin));
    Interval b = new Bootstrap(2000, 42).interval(all, meanOf(coin));
    assertEquals(a, b, "same seed, same interval");
    double[] spread = IntStream.range(0, 400).mapToDouble(i -> Math.sqrt(i)).toArray();
    assertNotEquals(
        new Bootstrap(2000, 42).interval(all, meanOf(spread)),
        new Bootstrap(2000, 43).interval(all, meanOf(spread)),
        "another seed, other resamples");
    // p = 0.5, n = 400: the normal approximation's half-width is 1.96 * 0.025 = 0.049
    assertEquals(0.5, a.value(), 1e-12);
    assertEquals(0.049, a.high() - 0.5, 0.008);
    assertEquals(0.049, 0.5 - a.low(), 0.008);
  }

  @Test
  void groupsAreResampledWithinThemselves() {
    // two groups with no spread inside: the macro mean cannot move, though pooled resampling would
    double[] values = {0, 0, 0, 10, 10, 10, 10, 10, 10, 10};
    List<int[]> groups = List.of(new int[] {0, 1, 2}, new int[] {3, 4, 5, 6, 7, 8, 9});
    Interval macro =
        new Bootstrap(500, 3)
            .grouped(
                groups,
                g ->
                    g.stream()
                        .mapToDouble(s -> meanOf(values).applyAsDouble(s))
                        .average()
                        .orElse(0));
    assertEquals(new Interval(5, 5, 5, 10), macro);
    assertTrue(
        new Bootstrap(500, 3).interval(IntStream.range(0, 10).toArray(), meanOf(values)).low() < 7);
    assertEquals(Interval.empty().n(), new Bootstrap(100, 1).interval(new int[0], s -> 1).n());
    assertThrows(IllegalArgumentException.class, () -> new Bootstrap(10, 1));
  }
}
