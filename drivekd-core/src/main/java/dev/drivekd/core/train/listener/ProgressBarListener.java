package dev.drivekd.core.train.listener;

import dev.drivekd.core.progress.ConsoleProgress;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A console progress bar on stderr: optimizer steps done out of the run's total, the current loss,
 * throughput and the estimated time left, e.g.
 *
 * <pre>
 * [############------------------]  40.0% 160/400 | loss 1.23457 | 3.21 samples/s | ETA 0:12:30
 * </pre>
 *
 * On a terminal the line is redrawn in place (at most every {@code minRedrawMillis}); otherwise (a
 * log file, CI) a plain line is printed every {@code lineEverySeconds} and at the last step, so
 * logs do not fill with carriage returns. The ETA is the time per step of this session (steps done
 * since {@link #onTrainingBegin}, which excludes steps restored from a checkpoint) times the steps
 * left. A line per finished epoch is printed too, unless {@link Builder#optEpochLines} turns it off
 * (runs of many short epochs).
 */
public final class ProgressBarListener implements DistillationListener {

  private final PrintStream out;
  private final boolean interactive;
  private final int width;
  private final long minRedrawNanos;
  private final long lineEveryNanos;
  private final boolean epochLines;
  private final LongSupplier clock;

  private long total;
  private long startStep;
  private long startNanos;
  private long lastDrawNanos;
  private final ConsoleProgress.Line line;

  private ProgressBarListener(Builder b) {
    this.out = b.out;
    this.interactive = b.interactive;
    this.width = b.width;
    this.minRedrawNanos = b.minRedrawMillis * 1_000_000L;
    this.lineEveryNanos = (long) (b.lineEverySeconds * 1e9);
    this.epochLines = b.epochLines;
    this.clock = b.clock;
    this.line = new ConsoleProgress.Line(out, interactive);
  }

  /** A bar on {@code System.err}, interactive when the JVM has a console. */
  public static ProgressBarListener onStderr() {
    return builder().build();
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void onTrainingBegin(TrainingBegin begin) {
    total = begin.totalOptimizerSteps();
    startStep = begin.start().optimizerStep();
    startNanos = clock.getAsLong();
    lastDrawNanos = Long.MIN_VALUE;
  }

  @Override
  public void onStep(StepReport r) {
    long now = clock.getAsLong();
    boolean last = total > 0 && r.optimizerStep() >= total;
    long interval = interactive ? minRedrawNanos : lineEveryNanos;
    if (!last && lastDrawNanos != Long.MIN_VALUE && now - lastDrawNanos < interval) {
      return;
    }
    lastDrawNanos = now;
    long doneHere = r.optimizerStep() - startStep;
    double eta =
        total > 0 && doneHere > 0
            ? (now - startNanos) / 1e9 / doneHere * Math.max(0, total - r.optimizerStep())
            : Double.NaN;
    line.show(render(r.optimizerStep(), total, r.loss(), r.samplesPerSecond(), eta, width));
  }

  @Override
  public void onEpochEnd(EpochReport report) {
    if (!epochLines) {
      return;
    }
    endLine();
    out.println(
        String.format(
            Locale.ROOT,
            "epoch %d done: %d steps, %d samples, %s",
            report.epoch(),
            report.optimizerStep(),
            report.samples(),
            duration(report.seconds())));
    out.flush();
  }

  @Override
  public void onTrainingEnd(TrainingEnd end) {
    endLine();
    out.println(
        String.format(
            Locale.ROOT,
            "training %s after %d steps in %s",
            end.completed() ? "completed" : "stopped",
            end.optimizerStep(),
            duration(end.seconds())));
    out.flush();
  }

  private void endLine() {
    line.end();
  }

  /**
   * The progress line for the given values, deterministic: a bar of {@code width} cells when the
   * total is known, the percentage, steps, loss, throughput and ETA ({@code --:--:--} when
   * unknown).
   */
  public static String render(
      long done, long total, double loss, double samplesPerSecond, double etaSeconds, int width) {
    StringBuilder sb = new StringBuilder();
    sb.append(total > 0 ? ConsoleProgress.bar(done, total, width) : "step " + done);
    sb.append(" | loss ").append(LoggingListener.number(loss));
    sb.append(String.format(Locale.ROOT, " | %.2f samples/s", samplesPerSecond));
    sb.append(" | ETA ").append(Double.isNaN(etaSeconds) ? "--:--:--" : duration(etaSeconds));
    return sb.toString();
  }

  static String duration(double seconds) {
    return ConsoleProgress.duration(seconds);
  }

  /** Builder; every setting is optional. */
  public static final class Builder {
    private PrintStream out = System.err;
    private boolean interactive = System.console() != null;
    private int width = 30;
    private long minRedrawMillis = 100;
    private double lineEverySeconds = 30;
    private boolean epochLines = true;
    private LongSupplier clock = System::nanoTime;

    private Builder() {}

    /** Where the bar goes ({@code System.err} by default). */
    public Builder optStream(PrintStream stream) {
      this.out = stream;
      return this;
    }

    /** Redraw in place (a terminal) or print lines (default: whether the JVM has a console). */
    public Builder optInteractive(boolean interactive) {
      this.interactive = interactive;
      return this;
    }

    /** Cells of the bar (30). */
    public Builder optWidth(int width) {
      if (width < 1) {
        throw new IllegalArgumentException("width must be >= 1, got " + width);
      }
      this.width = width;
      return this;
    }

    /** The shortest time between two redraws on a terminal (100 ms). */
    public Builder optMinRedrawMillis(long millis) {
      this.minRedrawMillis = Math.max(0, millis);
      return this;
    }

    /** The time between two lines when not on a terminal (30 s). */
    public Builder optLineEverySeconds(double seconds) {
      this.lineEverySeconds = Math.max(0, seconds);
      return this;
    }

    /** Whether each finished epoch gets a line of its own (true). */
    public Builder optEpochLines(boolean epochLines) {
      this.epochLines = epochLines;
      return this;
    }

    /** The clock in nanoseconds ({@code System::nanoTime}); tests pass their own. */
    public Builder optClock(LongSupplier nanos) {
      this.clock = nanos;
      return this;
    }

    /** Builds the listener. */
    public ProgressBarListener build() {
      return new ProgressBarListener(this);
    }
  }
}
