package dev.drivekd.core.train.weighting;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reference's task keys (method.md 2.2): {@code ce} for the hard-label cross-entropy and one
 * key per capability teacher, always in the order ce, perception, reasoning, planning (the backward
 * and logging order of trainer.py).
 */
public final class TaskKeys {

  /** The hard-label cross-entropy task (the AGP anchor). */
  public static final String CE = "ce";

  /** Every key in reference order: ce, p:first_att_Atv, r:intermediate, d:penult_att_Atv. */
  public static final List<String> ALL =
      List.of(
          CE,
          CapabilitySignalLoss.PERCEPTION_KEY,
          CapabilitySignalLoss.REASONING_KEY,
          CapabilitySignalLoss.PLANNING_KEY);

  private TaskKeys() {}

  /** The key of the given teacher's capability loss. */
  public static String of(Capability teacher) {
    return ALL.get(1 + teacher.index());
  }

  /** The capability whose teacher owns {@code key}; empty for {@code ce}. */
  public static Optional<Capability> capability(String key) {
    int i = ALL.indexOf(key);
    if (i < 0) {
      throw new IllegalArgumentException("Unknown task key '" + key + "'; keys are " + ALL);
    }
    return i == 0 ? Optional.empty() : Optional.of(Capability.ofIndex(i - 1));
  }

  /** The reference's static weights: 1.0 for every key ({@code --w-ce}, {@code --w-*}). */
  public static Map<String, Double> defaultStaticWeights() {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String key : ALL) {
      weights.put(key, 1.0);
    }
    return weights;
  }

  /**
   * Checks a static weight map and returns it in reference key order with every key present: only
   * known keys, finite values, {@code ce} required; an absent capability key means 0 (inactive).
   */
  static Map<String, Double> normaliseStatic(Map<String, ? extends Number> staticWeights) {
    if (staticWeights == null) {
      throw new IllegalArgumentException("static weights must not be null");
    }
    for (String key : staticWeights.keySet()) {
      if (!ALL.contains(key)) {
        throw new IllegalArgumentException(
            "Unknown task key '" + key + "' in static weights; keys are " + ALL);
      }
    }
    if (!staticWeights.containsKey(CE) || staticWeights.get(CE) == null) {
      throw new IllegalArgumentException("static weights need a value for '" + CE + "'");
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (String key : ALL) {
      Number value = staticWeights.get(key);
      double v = value == null ? 0.0 : value.doubleValue();
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("static weight of '" + key + "' is not finite: " + v);
      }
      out.put(key, v);
    }
    return out;
  }

  /** The active keys of a static map: ce, then every capability key with a non-zero weight. */
  static List<String> activeKeys(Map<String, Double> normalisedStatic) {
    List<String> active = new java.util.ArrayList<>();
    active.add(CE);
    for (String key : ALL.subList(1, ALL.size())) {
      if (normalisedStatic.get(key) != 0.0) {
        active.add(key);
      }
    }
    return List.copyOf(active);
  }
}
