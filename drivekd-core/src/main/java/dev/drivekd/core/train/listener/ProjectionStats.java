package dev.drivekd.core.train.listener;

import dev.drivekd.gradproj.ProjectionReport;
import dev.drivekd.gradproj.ProjectionStep;

/**
 * Gradient-projection counts of one optimizer step, summed over its micro-steps: how many pairwise
 * tests each stage ran and how many of them found a conflict (negative dot) and projected.
 *
 * @param method the projection's name ({@code none} when nothing was combined)
 * @param stage1Tests anchor/follower tests (AGP, G1)
 * @param stage1Fired of which projected
 * @param stage2Tests pairwise tests (AGP, G2, PCGrad)
 * @param stage2Fired of which projected
 */
public record ProjectionStats(
    String method, int stage1Tests, int stage1Fired, int stage2Tests, int stage2Fired) {

  /** No projection ran. */
  public static ProjectionStats none() {
    return new ProjectionStats("none", 0, 0, 0, 0);
  }

  /** The counts of one combine. */
  public static ProjectionStats of(ProjectionReport report) {
    return new ProjectionStats(
        report.method(),
        report.stage1().size(),
        (int) report.stage1().stream().filter(ProjectionStep::projected).count(),
        report.stage2().size(),
        (int) report.stage2().stream().filter(ProjectionStep::projected).count());
  }

  /** These counts plus {@code other}'s (the method of the non-empty one is kept). */
  public ProjectionStats plus(ProjectionStats other) {
    String m = stage1Tests + stage2Tests == 0 && "none".equals(method) ? other.method : method;
    return new ProjectionStats(
        m,
        stage1Tests + other.stage1Tests,
        stage1Fired + other.stage1Fired,
        stage2Tests + other.stage2Tests,
        stage2Fired + other.stage2Fired);
  }

  /** Conflicts projected in both stages. */
  public int fired() {
    return stage1Fired + stage2Fired;
  }
}
