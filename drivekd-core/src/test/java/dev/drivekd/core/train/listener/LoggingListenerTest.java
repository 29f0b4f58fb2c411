package dev.drivekd.core.train.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.gradproj.ProjectionReport;
import dev.drivekd.gradproj.ProjectionStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** {@link LoggingListener}: the exact line format and which steps are logged. */
class LoggingListenerTest {

  /** A logger that keeps every INFO message. */
  static final class CapturingLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    final List<String> lines = new ArrayList<>();

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String msg, Object[] args, Throwable t) {
      lines.add(level + " " + MessageFormatter.basicArrayFormat(msg, args));
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }

  @Test
  void stepLineHasEveryTermWeightProjectionRateAndThroughput() {
    assertEquals(
        "epoch 0 | step 12/40 | micro 48 | samples 48 | loss 2.34568 | ce=2.31"
            + " p:first_att_Atv=0.0123 | w ce=1 p:first_att_Atv=0.8 | proj stage1 1/2 stage2 0/1"
            + " (agp) | lr 5.000e-05 | gnorm 0.321 | 3.21 samples/s | skipped 0",
        LoggingListener.format(Reports.step12(), 40));
    StepReport noNorm =
        new StepReport(1, 3, 9, 9, 1e-7, Map.of(), Map.of(), null, 0, Double.NaN, 0.5, 2);
    assertEquals(
        "epoch 1 | step 3 | micro 9 | samples 9 | loss 1e-07 | - | w - | proj stage1 0/0 stage2"
            + " 0/0 (none) | lr 0.000e+00 | 0.50 samples/s | skipped 2",
        LoggingListener.format(noNorm, 0));
  }

  @Test
  void numbersHaveSixSignificantDigitsWithoutTrailingZeros() {
    assertEquals("0.5", LoggingListener.number(0.5));
    assertEquals("2.5e-05", LoggingListener.number(2.5e-5));
    assertEquals("123457", LoggingListener.number(123456.7));
    assertEquals("1.23457e+06", LoggingListener.number(1234567));
    assertEquals("-3", LoggingListener.number(-3));
    assertEquals("0", LoggingListener.number(0));
    assertEquals("NaN", LoggingListener.number(Double.NaN));
  }

  @Test
  void logsEveryNthStepAndTheLast() {
    CapturingLogger logger = new CapturingLogger();
    LoggingListener listener = new LoggingListener(5, logger);
    listener.onTrainingBegin(Reports.begin(12, 0));
    for (long step = 1; step <= 12; step++) {
      StepReport r = Reports.step12();
      listener.onStep(
          new StepReport(
              0,
              step,
              step * 4,
              step * 4,
              r.loss(),
              r.losses(),
              r.taskWeights(),
              r.projection(),
              r.learningRate(),
              r.gradientNorm(),
              r.samplesPerSecond(),
              r.skippedUpdates()));
    }
    listener.onEpochEnd(
        new EpochReport(0, 12, 48, Reports.map("ce", 2.0, "p:first_att_Atv", 0.25), 61.04));
    listener.onTrainingEnd(new TrainingEnd(0, 12, 48, 61.5, true));
    assertEquals(6, logger.lines.size(), String.join("\n", logger.lines));
    assertEquals(
        "INFO training 2 epoch(s) of 10 samples, 12 optimizer steps, from epoch 0 step 0 | data"
            + " ab12 | versions {djl=0.36.0, drivekd=0.1.0-SNAPSHOT}",
        logger.lines.get(0));
    assertTrue(logger.lines.get(1).startsWith("INFO epoch 0 | step 5/12 | micro 20 |"));
    assertTrue(logger.lines.get(2).startsWith("INFO epoch 0 | step 10/12 | micro 40 |"));
    assertTrue(logger.lines.get(3).startsWith("INFO epoch 0 | step 12/12 | micro 48 |"));
    assertEquals(
        "INFO epoch 0 done | step 12 | samples 48 | 61.0 s | mean ce=2 p:first_att_Atv=0.25",
        logger.lines.get(4));
    assertEquals(
        "INFO training completed | epoch 0 | step 12 | samples 48 | 61.5 s", logger.lines.get(5));
    assertThrows(IllegalArgumentException.class, () -> new LoggingListener(0, logger));
  }

  @Test
  void projectionStatsCountTestsAndConflictsPerStage() {
    ProjectionReport report =
        new ProjectionReport(
            "agp",
            List.of("r", "p"),
            List.of(
                new ProjectionStep("p", "ce", -0.5, true, 2.0, -0.25),
                new ProjectionStep("r", "ce", 0.1, false, Double.NaN, Double.NaN)),
            List.of(
                new ProjectionStep("r", "p", -1.0, true, 4.0, -0.25),
                new ProjectionStep("p", "r", -0.2, true, 1.0, -0.2),
                new ProjectionStep("r", "d", 0.3, false, Double.NaN, Double.NaN)),
            1);
    ProjectionStats stats = ProjectionStats.of(report);
    assertEquals(new ProjectionStats("agp", 2, 1, 3, 2), stats);
    assertEquals(3, stats.fired());
    assertEquals(
        new ProjectionStats("agp", 4, 2, 6, 4), ProjectionStats.none().plus(stats).plus(stats));
  }
}
