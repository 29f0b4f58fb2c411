package dev.drivekd.core.train.listener;

import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a run through SLF4J at INFO: its start, every {@code N}-th optimizer step (and the last)
 * with every loss term, the task weights, projection counts, learning rate, gradient norm,
 * throughput and skipped updates, each epoch's mean losses, and the end. A step line reads:
 *
 * <pre>
 * epoch 0 | step 12/40 | micro 48 | samples 48 | loss 2.34568 | ce=2.31 p:first_att_Atv=0.0123
 *   | w ce=1 p:first_att_Atv=0.8 | proj stage1 1/2 stage2 0/1 (agp) | lr 5.000e-05 | gnorm 0.321
 *   | 3.21 samples/s | skipped 0
 * </pre>
 *
 * (one line; wrapped here).
 */
public final class LoggingListener implements DistillationListener {

  private final int every;
  private final Logger logger;
  private long totalSteps;

  /** Logs every {@code everySteps}-th optimizer step to this class's logger. */
  public LoggingListener(int everySteps) {
    this(everySteps, LoggerFactory.getLogger(LoggingListener.class));
  }

  /** Logs every {@code everySteps}-th optimizer step to {@code logger}. */
  public LoggingListener(int everySteps, Logger logger) {
    if (everySteps < 1) {
      throw new IllegalArgumentException("everySteps must be >= 1, got " + everySteps);
    }
    this.every = everySteps;
    this.logger = logger;
  }

  @Override
  public void onTrainingBegin(TrainingBegin begin) {
    totalSteps = begin.totalOptimizerSteps();
    if (logger.isInfoEnabled()) {
      logger.info(formatBegin(begin));
    }
  }

  @Override
  public void onStep(StepReport report) {
    boolean due =
        report.optimizerStep() % every == 0
            || (totalSteps > 0 && report.optimizerStep() == totalSteps);
    if (due && logger.isInfoEnabled()) {
      logger.info(format(report, totalSteps));
    }
  }

  @Override
  public void onEpochEnd(EpochReport report) {
    if (logger.isInfoEnabled()) {
      logger.info(
          String.format(
              Locale.ROOT,
              "epoch %d done | step %d | samples %d | %.1f s | mean %s",
              report.epoch(),
              report.optimizerStep(),
              report.samples(),
              report.seconds(),
              terms(report.meanLosses())));
    }
  }

  @Override
  public void onTrainingEnd(TrainingEnd end) {
    if (logger.isInfoEnabled()) {
      logger.info(
          String.format(
              Locale.ROOT,
              "training %s | epoch %d | step %d | samples %d | %.1f s",
              end.completed() ? "completed" : "stopped early",
              end.epoch(),
              end.optimizerStep(),
              end.samples(),
              end.seconds()));
    }
  }

  /** The start line: epochs, steps, where it starts, data fingerprint and versions. */
  static String formatBegin(TrainingBegin begin) {
    return String.format(
        Locale.ROOT,
        "training %d epoch(s) of %d samples, %d optimizer steps, from epoch %d step %d | data %s"
            + " | versions %s",
        begin.epochs(),
        begin.samplesPerEpoch(),
        begin.totalOptimizerSteps(),
        begin.start().epoch(),
        begin.start().optimizerStep(),
        begin.provenance() == null ? "?" : begin.provenance().dataFingerprint(),
        begin.provenance() == null ? "{}" : begin.provenance().versions());
  }

  /** One step line; {@code totalSteps <= 0} leaves out the total. */
  public static String format(StepReport r, long totalSteps) {
    StringBuilder sb = new StringBuilder();
    sb.append("epoch ").append(r.epoch());
    sb.append(" | step ").append(r.optimizerStep());
    if (totalSteps > 0) {
      sb.append('/').append(totalSteps);
    }
    sb.append(" | micro ").append(r.microStep());
    sb.append(" | samples ").append(r.samples());
    sb.append(" | loss ").append(number(r.loss()));
    sb.append(" | ").append(terms(r.losses()));
    sb.append(" | w ").append(terms(r.taskWeights()));
    ProjectionStats p = r.projection();
    sb.append(
        String.format(
            Locale.ROOT,
            " | proj stage1 %d/%d stage2 %d/%d (%s)",
            p.stage1Fired(),
            p.stage1Tests(),
            p.stage2Fired(),
            p.stage2Tests(),
            p.method()));
    if (p.reusedMicroSteps() > 0) {
      sb.append(" reused ").append(p.reusedMicroSteps());
    }
    if (p.minDriftCosine() != null) {
      sb.append(String.format(Locale.ROOT, " drift cos %.4f", p.minDriftCosine()));
    }
    sb.append(String.format(Locale.ROOT, " | lr %.3e", r.learningRate()));
    if (!Double.isNaN(r.gradientNorm())) {
      sb.append(" | gnorm ").append(number(r.gradientNorm()));
    }
    sb.append(String.format(Locale.ROOT, " | %.2f samples/s", r.samplesPerSecond()));
    sb.append(" | skipped ").append(r.skippedUpdates());
    return sb.toString();
  }

  private static String terms(Map<String, Double> values) {
    if (values.isEmpty()) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Double> e : values.entrySet()) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(e.getKey()).append('=').append(number(e.getValue()));
    }
    return sb.toString();
  }

  /** Six significant digits, without trailing zeros ({@code %g} style, locale-free). */
  static String number(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.toString(v);
    }
    if (v == 0) {
      return "0";
    }
    String s = String.format(Locale.ROOT, "%.6g", v);
    int e = s.indexOf('e');
    String mantissa = e < 0 ? s : s.substring(0, e);
    String exponent = e < 0 ? "" : s.substring(e);
    if (mantissa.contains(".")) {
      mantissa = mantissa.replaceAll("0+$", "");
      if (mantissa.endsWith(".")) {
        mantissa = mantissa.substring(0, mantissa.length() - 1);
      }
    }
    return mantissa + exponent;
  }
}
