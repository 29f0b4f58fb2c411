package dev.drivekd.core.train;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seeds of a run, one per random stream, all derived from the one seed the user gives: the data
 * order takes it as it is, every other stream a seed of its own ({@link #derive}), so that no two
 * streams draw the same numbers (two SplitMix64 generators from one seed would shuffle the epoch
 * and the stage-2 projections in lockstep).
 */
final class RunSeeds {

  static final String DATA_ORDER = "data-order";
  static final String PROJECTION_ORDER = "projection-order";

  private RunSeeds() {}

  /** Every stream's seed by purpose, as the run's provenance records them. */
  static Map<String, Long> of(long seed) {
    Map<String, Long> seeds = new LinkedHashMap<>();
    seeds.put(DATA_ORDER, seed);
    seeds.put(PROJECTION_ORDER, derive(seed, PROJECTION_ORDER));
    return seeds;
  }

  /**
   * A seed for {@code purpose} from the run's seed: the FNV-1a hash of the purpose mixed into the
   * seed, then SplitMix64's finaliser (a bijection of 64-bit values that spreads every input bit).
   */
  static long derive(long seed, String purpose) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
      hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
    }
    long z = seed ^ hash;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
