package dev.drivekd.core.train;

import dev.drivekd.core.train.listener.CoefficientReuseReport;

/**
 * What an amortised projection ({@code GradientProjection.optRefreshEvery(T)}) did over a run.
 *
 * @param combinedMicroSteps micro-steps that ran the full combine (one backward per task)
 * @param reusedMicroSteps micro-steps that reused a combine's loss multipliers (one backward)
 * @param meanFitCosine mean, over the full combines, of the cosine between the one-backward fit and
 *     the combined gradient (1 where exact; NaN without combines)
 * @param minFitCosine the lowest of those cosines
 * @param meanDriftCosine mean, over the full combines that had earlier multipliers of their kind,
 *     of the cosine between those multipliers' gradient and the fresh combined gradient: how close
 *     the reused steps came to combining (NaN when none was measured)
 * @param minDriftCosine the lowest of those cosines
 * @param driftMeasurements how many drift cosines the means are over
 */
public record CoefficientReuseSummary(
    long combinedMicroSteps,
    long reusedMicroSteps,
    double meanFitCosine,
    double minFitCosine,
    double meanDriftCosine,
    double minDriftCosine,
    long driftMeasurements) {

  /** A run whose every micro-step combined (no amortisation). */
  public static CoefficientReuseSummary none() {
    return new CoefficientReuseSummary(0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
  }

  /** Sums micro-step reports. */
  static final class Recorder {
    private long combined;
    private long reused;
    private double fitSum;
    private double fitMin = Double.NaN;
    private double driftSum;
    private double driftMin = Double.NaN;
    private long drifts;

    void add(CoefficientReuseReport r) {
      if (r == null) {
        return;
      }
      if (r.reused()) {
        reused++;
        return;
      }
      combined++;
      fitSum += r.fitCosine();
      fitMin = Double.isNaN(fitMin) ? r.fitCosine() : Math.min(fitMin, r.fitCosine());
      if (!Double.isNaN(r.driftCosine())) {
        drifts++;
        driftSum += r.driftCosine();
        driftMin = Double.isNaN(driftMin) ? r.driftCosine() : Math.min(driftMin, r.driftCosine());
      }
    }

    CoefficientReuseSummary finish() {
      if (combined == 0 && reused == 0) {
        return none();
      }
      return new CoefficientReuseSummary(
          combined,
          reused,
          combined == 0 ? Double.NaN : fitSum / combined,
          fitMin,
          drifts == 0 ? Double.NaN : driftSum / drifts,
          driftMin,
          drifts);
    }
  }
}
