package dev.drivekd.core.train.schedule;

import ai.djl.training.tracker.Tracker;
import java.util.Locale;

/**
 * A learning-rate schedule as the reference builds it (trainer.py L888-910, method.md 5): a {@code
 * LambdaLR} multiplier {@code λ(n)} on a base rate, where {@code n} is the number of scheduler
 * steps taken so far. The reference steps the scheduler once after every optimizer step, so the
 * k-th optimizer step (1-based) runs with {@code rate(k - 1)}.
 *
 * <pre>
 * constant:                       λ(n) = 1
 * warmup (W &gt; 0 and n &lt; W):     λ(n) = n / W                  (the first step has rate 0)
 * otherwise: prog = clamp((n - W) / max(1, T - W), 0, 1)
 *   linear:                       λ(n) = max(minRatio, 1 - prog)
 *   cosine:                       λ(n) = max(minRatio, (1 + cos(π·prog)) / 2)
 * </pre>
 *
 * <p>The schedule is a pure function of {@code n}: it has no state of its own. The step count lives
 * in {@link AccumulationSchedule} (or, for a DJL optimizer, in the optimizer's update count), which
 * is what a checkpoint records.
 */
public final class LrSchedule {

  /** The shape of the multiplier. */
  public enum Kind {
    /** {@code λ = 1}. */
    CONSTANT,
    /** Linear decay to {@code minRatio} after the warmup. */
    LINEAR,
    /** Half-cosine decay to {@code minRatio} after the warmup. */
    COSINE
  }

  private final Kind kind;
  private final double baseRate;
  private final long totalSteps;
  private final long warmupSteps;
  private final double minRatio;

  private LrSchedule(
      Kind kind, double baseRate, long totalSteps, long warmupSteps, double minRatio) {
    if (!Double.isFinite(baseRate) || baseRate < 0) {
      throw new IllegalArgumentException(
          "base learning rate must be finite and >= 0, got " + baseRate);
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
    }
    if (kind != Kind.CONSTANT && totalSteps <= 0) {
      throw new IllegalArgumentException(
          kind.name().toLowerCase(Locale.ROOT)
              + " schedule needs total optimizer steps > 0, got "
              + totalSteps
              + " (the reference treats 0 as a constant rate: use LrSchedule.constant)");
    }
    if (!Double.isFinite(minRatio) || minRatio < 0) {
      throw new IllegalArgumentException("min ratio must be finite and >= 0, got " + minRatio);
    }
    this.kind = kind;
    this.baseRate = baseRate;
    this.totalSteps = totalSteps;
    this.warmupSteps = warmupSteps;
    this.minRatio = minRatio;
  }

  /** A constant rate: {@code λ(n) = 1}. The reference's default ({@code total_optim_steps = 0}). */
  public static LrSchedule constant(double baseRate) {
    return new LrSchedule(Kind.CONSTANT, baseRate, 0, 0, 0);
  }

  /**
   * Linear warmup over {@code warmupSteps}, then linear decay to {@code minRatio · baseRate} at
   * {@code totalSteps}, flat after.
   */
  public static LrSchedule linear(
      double baseRate, long totalSteps, long warmupSteps, double minRatio) {
    return new LrSchedule(Kind.LINEAR, baseRate, totalSteps, warmupSteps, minRatio);
  }

  /**
   * Linear warmup over {@code warmupSteps}, then half-cosine decay to {@code minRatio · baseRate}
   * at {@code totalSteps}, flat after. The reference's default type.
   */
  public static LrSchedule cosine(
      double baseRate, long totalSteps, long warmupSteps, double minRatio) {
    return new LrSchedule(Kind.COSINE, baseRate, totalSteps, warmupSteps, minRatio);
  }

  /**
   * The schedule exactly as the reference's options select it: {@code total <= 0} gives a constant
   * rate whatever the warmup; otherwise {@code type} equal to "linear" (ignoring case) gives {@link
   * #linear}, and any other type gives {@link #cosine}.
   */
  public static LrSchedule fromReferenceOptions(
      String type, double baseRate, long totalSteps, long warmupSteps, double minRatio) {
    if (totalSteps <= 0) {
      return constant(baseRate);
    }
    boolean linear = type != null && type.toLowerCase(Locale.ROOT).equals("linear");
    return linear
        ? linear(baseRate, totalSteps, warmupSteps, minRatio)
        : cosine(baseRate, totalSteps, warmupSteps, minRatio);
  }

  /**
   * The reference's natural total for a run: {@code epochs · ceil(samples / accumulation)}, since
   * each epoch's last partial window also steps (method.md 5). The reference never derives it.
   */
  public static long totalOptimizerSteps(int epochs, long samplesPerEpoch, int accumulation) {
    if (epochs < 0 || samplesPerEpoch < 0 || accumulation <= 0) {
      throw new IllegalArgumentException(
          "epochs and samples must be >= 0 and accumulation > 0, got "
              + epochs
              + ", "
              + samplesPerEpoch
              + ", "
              + accumulation);
    }
    return epochs * ((samplesPerEpoch + accumulation - 1) / accumulation);
  }

  /** The multiplier {@code λ(n)} after {@code n} scheduler steps. */
  public double lambda(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("scheduler step must be >= 0, got " + n);
    }
    if (kind == Kind.CONSTANT) {
      return 1.0;
    }
    if (warmupSteps > 0 && n < warmupSteps) {
      return (double) n / (double) Math.max(1, warmupSteps);
    }
    long remain = Math.max(1, totalSteps - warmupSteps);
    double prog = (double) (n - warmupSteps) / (double) remain;
    prog = Math.max(0.0, Math.min(1.0, prog));
    if (kind == Kind.LINEAR) {
      return Math.max(minRatio, 1.0 - prog);
    }
    return Math.max(minRatio, 0.5 * (1.0 + Math.cos(Math.PI * prog)));
  }

  /** The learning rate {@code baseRate · λ(n)} after {@code n} scheduler steps. */
  public double rate(long n) {
    return baseRate * lambda(n);
  }

  /** The rate the k-th optimizer step (1-based) uses: {@code rate(k - 1)}. */
  public double rateAtOptimizerStep(long k) {
    if (k < 1) {
      throw new IllegalArgumentException("optimizer steps count from 1, got " + k);
    }
    return rate(k - 1);
  }

  /**
   * This schedule as a DJL {@link Tracker}. DJL optimizers pass the 1-based update count, so {@code
   * getNewValue(k)} is {@link #rateAtOptimizerStep rateAtOptimizerStep(k)} (rounded to float, as
   * every DJL tracker is); a count below 1 gives {@code rate(0)}.
   */
  public Tracker asTracker() {
    return numUpdate -> (float) rate(Math.max(0, numUpdate - 1L));
  }

  /** The shape of the multiplier. */
  public Kind kind() {
    return kind;
  }

  /** The base learning rate. */
  public double baseRate() {
    return baseRate;
  }

  /** Total optimizer steps of the decay (0 for a constant schedule). */
  public long totalSteps() {
    return totalSteps;
  }

  /** Warmup steps (0 for a constant schedule). */
  public long warmupSteps() {
    return warmupSteps;
  }

  /** The floor of the multiplier after the warmup (0 for a constant schedule). */
  public double minRatio() {
    return minRatio;
  }

  @Override
  public String toString() {
    if (kind == Kind.CONSTANT) {
      return "LrSchedule.constant(" + baseRate + ")";
    }
    return "LrSchedule."
        + kind.name().toLowerCase(Locale.ROOT)
        + "(base="
        + baseRate
        + ", total="
        + totalSteps
        + ", warmup="
        + warmupSteps
        + ", minRatio="
        + minRatio
        + ")";
  }
}
