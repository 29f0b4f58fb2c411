package dev.drivekd.core.train.listener;

/**
 * What an amortised projection ({@code GradientProjection.optRefreshEvery(T)}, T > 1) did on one
 * micro-step.
 *
 * @param reused whether the micro-step reused the loss multipliers of its kind's last full combine
 *     (one backward pass) instead of combining
 * @param microStepsSinceRefresh micro-steps of its kind since that combine (0 on a full combine)
 * @param fitCosine cosine between the one-backward gradient of the multipliers in use and the
 *     combined gradient they were fitted to (1 where the fit is exact)
 * @param driftCosine on a full combine after earlier multipliers of the same kind: the cosine
 *     between what those multipliers give on this micro-step's task gradients and the fresh
 *     combined gradient (how far reusing them would have been from combining); NaN otherwise
 */
public record CoefficientReuseReport(
    boolean reused, int microStepsSinceRefresh, double fitCosine, double driftCosine) {}
