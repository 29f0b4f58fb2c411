package dev.drivekd.core.train.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ProgressBarListener}: deterministic rendering, redraw throttling, plain-line mode. */
class ProgressBarListenerTest {

  @Test
  void rendersBarPercentStepsLossThroughputAndEta() {
    assertEquals(
        "[############------------------]  40.0% 160/400 | loss 1.23457 | 3.21 samples/s | ETA"
            + " 0:12:30",
        ProgressBarListener.render(160, 400, 1.2345678, 3.214, 750, 30));
    assertEquals(
        "[##########] 100.0% 10/10 | loss 0.01 | 12.00 samples/s | ETA 0:00:00",
        ProgressBarListener.render(10, 10, 0.01, 12, 0, 10));
    assertEquals(
        "[----] 0.0% 0/7 | loss NaN | 0.00 samples/s | ETA --:--:--".replace("] 0.0", "]   0.0"),
        ProgressBarListener.render(0, 7, Double.NaN, 0, Double.NaN, 4));
    assertEquals(
        "step 7 | loss 0.5 | 1.00 samples/s | ETA --:--:--",
        ProgressBarListener.render(7, 0, 0.5, 1, Double.NaN, 30));
    assertEquals("27:46:40", ProgressBarListener.duration(100_000));
  }

  /** A bar of 4 cells into {@code bytes} on the clock {@code now[0]}. */
  private static ProgressBarListener.Builder fourCells(ByteArrayOutputStream bytes, long[] now) {
    return ProgressBarListener.builder()
        .optStream(new PrintStream(bytes, true, StandardCharsets.UTF_8))
        .optWidth(4)
        .optClock(() -> now[0]);
  }

  private static StepReport step(long s, double loss) {
    return new StepReport(0, s, s * 2, s * 2, loss, Map.of(), Map.of(), null, 1e-3, 1, 2.5, 0);
  }

  @Test
  void terminalRedrawsInPlaceAtMostEveryInterval() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long[] now = {0};
    ProgressBarListener bar =
        fourCells(bytes, now).optInteractive(true).optMinRedrawMillis(100).build();
    bar.onTrainingBegin(Reports.begin(4, 0));
    now[0] = 10_000_000_000L; // 10 s for the first step: ETA 3 x 10 s
    bar.onStep(step(1, 2.0));
    now[0] += 50_000_000L; // 50 ms later: throttled
    bar.onStep(step(2, 1.5));
    now[0] = 30_000_000_000L;
    bar.onStep(step(3, 1.25));
    now[0] += 1_000_000L; // the last step is always drawn
    bar.onStep(step(4, 1.0));
    bar.onTrainingEnd(new TrainingEnd(0, 4, 8, 30.001, true));
    String expected =
        "\r[#---]  25.0% 1/4 | loss 2 | 2.50 samples/s | ETA 0:00:30"
            + "\r[###-]  75.0% 3/4 | loss 1.25 | 2.50 samples/s | ETA 0:00:10"
            + "\r[####] 100.0% 4/4 | loss 1 | 2.50 samples/s | ETA 0:00:00"
            + "   " // blanks over the end of the longer previous line
            + System.lineSeparator()
            + "training completed after 4 steps in 0:00:30"
            + System.lineSeparator();
    assertEquals(expected, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void withoutTerminalPrintsPlainLinesEveryInterval() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long[] now = {0};
    ProgressBarListener bar =
        fourCells(bytes, now).optInteractive(false).optLineEverySeconds(30).build();
    bar.onTrainingBegin(Reports.begin(8, 4)); // resumed at step 4
    for (int s = 5; s <= 8; s++) {
      now[0] = (s - 4) * 20_000_000_000L; // 20 s per step
      bar.onStep(step(s, 1.0 / s));
    }
    bar.onEpochEnd(new EpochReport(1, 8, 16, Map.of(), 80));
    String nl = System.lineSeparator();
    String expected =
        "[##--]  62.5% 5/8 | loss 0.2 | 2.50 samples/s | ETA 0:01:00"
            + nl
            + "[###-]  87.5% 7/8 | loss 0.142857 | 2.50 samples/s | ETA 0:00:20"
            + nl
            + "[####] 100.0% 8/8 | loss 0.125 | 2.50 samples/s | ETA 0:00:00"
            + nl
            + "epoch 1 done: 8 steps, 16 samples, 0:01:20"
            + nl;
    assertEquals(expected, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void epochLinesCanBeTurnedOff() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long[] now = {0};
    ProgressBarListener bar =
        fourCells(bytes, now).optInteractive(false).optEpochLines(false).build();
    bar.onTrainingBegin(Reports.begin(2, 0));
    now[0] = 1_000_000_000L;
    bar.onStep(step(1, 0.5));
    bar.onEpochEnd(new EpochReport(0, 1, 1, Map.of(), 1));
    now[0] = 2_000_000_000L;
    bar.onStep(step(2, 0.25));
    bar.onEpochEnd(new EpochReport(1, 2, 2, Map.of(), 1));
    String nl = System.lineSeparator();
    String expected =
        "[##--]  50.0% 1/2 | loss 0.5 | 2.50 samples/s | ETA 0:00:01"
            + nl
            + "[####] 100.0% 2/2 | loss 0.25 | 2.50 samples/s | ETA 0:00:00"
            + nl;
    assertEquals(expected, bytes.toString(StandardCharsets.UTF_8));
  }
}
