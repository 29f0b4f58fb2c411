package dev.drivekd.core.train.listener;

import com.fasterxml.jackson.annotation.JsonInclude;
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
 * @param reusedMicroSteps micro-steps that reused an earlier combine's loss multipliers (one
 *     backward) instead of combining ({@code GradientProjection.optRefreshEvery})
 * @param minDriftCosine the lowest cosine, over the full combines of the step that had earlier
 *     multipliers of their kind, between those multipliers' gradient and the fresh combined
 *     gradient; null when none was measured (and then left out of a metrics line)
 */
public record ProjectionStats(
    String method,
    int stage1Tests,
    int stage1Fired,
    int stage2Tests,
    int stage2Fired,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) int reusedMicroSteps,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double minDriftCosine) {

  /** Counts of micro-steps that all combined (nothing reused, no drift measured). */
  public ProjectionStats(
      String method, int stage1Tests, int stage1Fired, int stage2Tests, int stage2Fired) {
    this(method, stage1Tests, stage1Fired, stage2Tests, stage2Fired, 0, null);
  }

  /** No projection ran. */
  public static ProjectionStats none() {
    return new ProjectionStats("none", 0, 0, 0, 0, 0, null);
  }

  /** The counts of one micro-step: its combine and, when amortised, what it reused or measured. */
  public static ProjectionStats of(ProjectionReport report, CoefficientReuseReport reuse) {
    ProjectionStats counts = of(report);
    if (reuse == null) {
      return counts;
    }
    return new ProjectionStats(
        counts.method,
        counts.stage1Tests,
        counts.stage1Fired,
        counts.stage2Tests,
        counts.stage2Fired,
        reuse.reused() ? 1 : 0,
        Double.isNaN(reuse.driftCosine()) ? null : reuse.driftCosine());
  }

  /** The counts of one combine. */
  public static ProjectionStats of(ProjectionReport report) {
    return new ProjectionStats(
        report.method(),
        report.stage1().size(),
        (int) report.stage1().stream().filter(ProjectionStep::projected).count(),
        report.stage2().size(),
        (int) report.stage2().stream().filter(ProjectionStep::projected).count(),
        0,
        null);
  }

  /** These counts plus {@code other}'s (the method of the non-empty one is kept). */
  public ProjectionStats plus(ProjectionStats other) {
    String m = "none".equals(method) ? other.method : method;
    return new ProjectionStats(
        m,
        stage1Tests + other.stage1Tests,
        stage1Fired + other.stage1Fired,
        stage2Tests + other.stage2Tests,
        stage2Fired + other.stage2Fired,
        reusedMicroSteps + other.reusedMicroSteps,
        lower(minDriftCosine, other.minDriftCosine));
  }

  private static Double lower(Double a, Double b) {
    if (a == null) {
      return b;
    }
    return b == null ? a : Double.valueOf(Math.min(a, b));
  }

  /** Conflicts projected in both stages. */
  public int fired() {
    return stage1Fired + stage2Fired;
  }
}
