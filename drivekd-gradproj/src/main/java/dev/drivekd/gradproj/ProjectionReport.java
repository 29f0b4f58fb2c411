package dev.drivekd.gradproj;

import java.util.List;

/**
 * What a combine did, for logging and reproduction: the stage-2 order it used, every projection
 * test of each stage, and the number of host synchronisations it cost.
 *
 * @param method the projection's name
 * @param stage2Order the follower order of stage 2 (empty when stage 2 did not run)
 * @param stage1 anchor/follower tests, one per follower (AGP, G1)
 * @param stage2 pairwise tests in execution order (AGP, G2, PCGrad)
 * @param hostSynchronisations device-to-host reads this combine caused (0 or 1)
 */
public record ProjectionReport(
    String method,
    List<String> stage2Order,
    List<ProjectionStep> stage1,
    List<ProjectionStep> stage2,
    int hostSynchronisations) {

  /** Number of projections that fired in both stages. */
  public int projectionsFired() {
    return (int)
        (stage1.stream().filter(ProjectionStep::projected).count()
            + stage2.stream().filter(ProjectionStep::projected).count());
  }
}
