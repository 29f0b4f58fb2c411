package dev.drivekd.core.train.listener;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The end of an epoch.
 *
 * @param epoch the 0-based epoch that ended
 * @param optimizerStep optimizer steps completed in the run
 * @param samples samples trained in the run
 * @param meanLosses every loss term's mean over the epoch's samples
 * @param seconds wall-clock seconds the epoch took
 */
public record EpochReport(
    long epoch, long optimizerStep, long samples, Map<String, Double> meanLosses, double seconds) {

  /** Ordered defensive copy. */
  public EpochReport {
    meanLosses =
        meanLosses == null
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(meanLosses));
  }
}
