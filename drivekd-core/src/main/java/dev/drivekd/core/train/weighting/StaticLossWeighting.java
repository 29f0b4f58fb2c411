package dev.drivekd.core.train.weighting;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Fixed loss weights {@code w_k = float32(static_k)} (the reference with dynamic weights off). */
final class StaticLossWeighting implements LossWeighting {
  private final Map<String, Double> statics;
  private final List<String> active;
  private final Map<String, Float> weights;

  StaticLossWeighting(Map<String, Double> statics) {
    this.statics = Collections.unmodifiableMap(new LinkedHashMap<>(statics));
    this.active = TaskKeys.activeKeys(statics);
    Map<String, Float> w = new LinkedHashMap<>();
    for (String key : active) {
      w.put(key, (float) statics.get(key).doubleValue());
    }
    this.weights = Collections.unmodifiableMap(w);
  }

  @Override
  public boolean isDynamic() {
    return false;
  }

  @Override
  public List<String> activeKeys() {
    return active;
  }

  @Override
  public Map<String, Double> staticWeights() {
    return statics;
  }

  @Override
  public Map<String, Float> currentWeights() {
    return weights;
  }

  @Override
  public void accumulate(
      Map<String, ? extends Number> losses, Map<String, ? extends Number> norms) {
    // The reference collects no statistics without dynamic weights.
  }

  @Override
  public WeightUpdate update() {
    return WeightUpdate.none(0, Map.of(), Map.of());
  }

  @Override
  public LossWeightingState exportState() {
    return new LossWeightingState(
        LossWeightingState.VERSION, false, statics, null, null, null, null, 0, null, null);
  }

  @Override
  public void restore(LossWeightingState state) {
    if (state.dynamic()) {
      throw new IllegalArgumentException(
          "the checkpoint holds dynamic loss weights but this trainer uses static ones");
    }
  }

  @Override
  public String toString() {
    return "LossWeighting.static" + weights;
  }
}
