package dev.drivekd.teachers.cache;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cached targets of one sample, with the fingerprint of the token layout they were computed
 * for.
 *
 * @param sampleIndex the sample's index in the dataset
 * @param layoutFingerprint {@link LayoutFingerprint} of the sample's layout
 * @param targets the targets by key, in recipe order
 */
public record CachedSample(
    int sampleIndex, String layoutFingerprint, Map<TargetKey, CachedTarget> targets) {

  /** Ordered, unmodifiable copy of the map. */
  public CachedSample {
    targets = Collections.unmodifiableMap(new LinkedHashMap<>(targets));
  }

  /**
   * The target named {@code key}.
   *
   * @throws IllegalArgumentException naming the sample, the key and the keys it has
   */
  public CachedTarget target(TargetKey key) {
    CachedTarget t = targets.get(key);
    if (t == null) {
      throw new IllegalArgumentException(
          "sample "
              + sampleIndex
              + " has no cached target "
              + key
              + "; it has "
              + targets.keySet());
    }
    return t;
  }
}
