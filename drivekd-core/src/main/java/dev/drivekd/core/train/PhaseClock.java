package dev.drivekd.core.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Nanoseconds per {@link StepPhase}, accumulated on the training thread: {@link #start()} marks the
 * beginning of a phase, {@link #lap(StepPhase)} charges the time since the last mark to a phase and
 * marks again.
 */
final class PhaseClock {

  private final long[] nanos = new long[StepPhase.values().length];
  private long mark = System.nanoTime();

  void start() {
    mark = System.nanoTime();
  }

  void lap(StepPhase phase) {
    long now = System.nanoTime();
    nanos[phase.ordinal()] += now - mark;
    mark = now;
  }

  /** Seconds per phase key, in phase order. */
  Map<String, Double> seconds() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (StepPhase phase : StepPhase.values()) {
      out.put(phase.key(), nanos[phase.ordinal()] / 1e9);
    }
    return out;
  }
}
