package dev.drivekd.core.train.weighting;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checkpoint state of a {@link LossWeighting}: plain values that serialise to JSON (Jackson) and
 * back bit for bit (floats are written in shortest round-trip form). For static weights only {@code
 * staticWeights} matters; for dynamic weights the parameters {@code a}, their AdamW state, the
 * initial losses {@code L0} and the open window's sums are kept too.
 *
 * @param version format version, {@value #VERSION}
 * @param dynamic whether the weights are dynamic
 * @param staticWeights the static weight of every task key
 * @param config the dynamic settings, or {@code null} for static weights
 * @param a the weight parameters {@code a_k} per active key (empty for static weights)
 * @param adam AdamW state per key that has been stepped at least once
 * @param lossInit {@code L0_k} per key seen by an update so far
 * @param windowCount micro-steps accumulated in the open window
 * @param windowLossSums loss sums of the open window
 * @param windowNormSums gradient-norm sums of the open window
 */
public record LossWeightingState(
    int version,
    boolean dynamic,
    Map<String, Double> staticWeights,
    DynamicWeightConfig config,
    Map<String, Float> a,
    Map<String, AdamScalarState> adam,
    Map<String, Float> lossInit,
    int windowCount,
    Map<String, Float> windowLossSums,
    Map<String, Float> windowNormSums) {

  /** The current format version. */
  public static final int VERSION = 1;

  /** Ordered defensive copies; null maps become empty. */
  public LossWeightingState {
    staticWeights = copy(staticWeights);
    a = copy(a);
    adam = copy(adam);
    lossInit = copy(lossInit);
    windowLossSums = copy(windowLossSums);
    windowNormSums = copy(windowNormSums);
  }

  private static <V> Map<String, V> copy(Map<String, V> map) {
    return map == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  /**
   * PyTorch AdamW state of one scalar weight parameter.
   *
   * @param step completed steps
   * @param expAvg first moment
   * @param expAvgSq second moment
   */
  public record AdamScalarState(long step, float expAvg, float expAvgSq) {}
}
