package dev.drivekd.eval.score;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Percentile bootstrap over items, seeded so a report is reproducible: resample the items with
 * replacement {@code resamples} times, recompute the statistic, take the 2.5th and 97.5th
 * percentiles (linear interpolation between order statistics, as numpy's default). A statistic of
 * several groups (the macro average over capabilities) resamples within each group.
 */
public final class Bootstrap {

  private final int resamples;
  private final long seed;

  /**
   * @param resamples how many resamples (at least 100; 2,000 is common)
   * @param seed the random seed
   */
  public Bootstrap(int resamples, long seed) {
    if (resamples < 100) {
      throw new IllegalArgumentException("use at least 100 resamples, got " + resamples);
    }
    this.resamples = resamples;
    this.seed = seed;
  }

  /** The resamples. */
  public int resamples() {
    return resamples;
  }

  /** The seed. */
  public long seed() {
    return seed;
  }

  /**
   * The statistic on {@code items} with its interval.
   *
   * @param items the item indices the statistic is computed over
   * @param statistic the statistic of a multiset of item indices
   */
  public Interval interval(int[] items, ToDoubleFunction<int[]> statistic) {
    if (items.length == 0) {
      return Interval.empty();
    }
    return grouped(List.of(items), groups -> statistic.applyAsDouble(groups.get(0)));
  }

  /**
   * A statistic of several groups of items, each group resampled on its own (stratified).
   *
   * @param groups item indices per group, each non-empty
   * @param statistic the statistic of the groups' multisets
   */
  public Interval grouped(List<int[]> groups, ToDoubleFunction<List<int[]>> statistic) {
    int n = 0;
    for (int[] g : groups) {
      if (g.length == 0) {
        throw new IllegalArgumentException("every group needs at least one item");
      }
      n += g.length;
    }
    double value = statistic.applyAsDouble(groups);
    SplittableRandom random = new SplittableRandom(seed);
    double[] values = new double[resamples];
    int[][] drawn = new int[groups.size()][];
    for (int g = 0; g < groups.size(); g++) {
      drawn[g] = new int[groups.get(g).length];
    }
    for (int r = 0; r < resamples; r++) {
      for (int g = 0; g < groups.size(); g++) {
        int[] source = groups.get(g);
        for (int i = 0; i < source.length; i++) {
          drawn[g][i] = source[random.nextInt(source.length)];
        }
      }
      values[r] = statistic.applyAsDouble(Arrays.asList(drawn));
    }
    Arrays.sort(values);
    return new Interval(value, percentile(values, 0.025), percentile(values, 0.975), n);
  }

  /** The {@code q}-quantile of sorted values, interpolating linearly. */
  static double percentile(double[] sorted, double q) {
    double position = q * (sorted.length - 1);
    int below = (int) Math.floor(position);
    int above = Math.min(below + 1, sorted.length - 1);
    return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
  }
}
