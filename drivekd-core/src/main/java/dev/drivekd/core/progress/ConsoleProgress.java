package dev.drivekd.core.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress bar for work counted in items (answers generated, samples scored): redrawn in place on
 * a terminal at most every 100 ms, else a plain line every {@code lineEverySeconds} and at the end,
 * e.g.
 *
 * <pre>
 * answers [###########-------------------]  38.0% 76/200 | 2.31/s | ETA 0:00:53
 * </pre>
 */
public final class ConsoleProgress implements AutoCloseable {

  private final String label;
  private final long total;
  private final PrintStream out;
  private final boolean interactive;
  private final long lineEveryNanos;
  private final LongSupplier clock;
  private final long startNanos;
  private final long startDone;
  private final Line line;
  private long lastDrawNanos = Long.MIN_VALUE;

  /**
   * A bar on {@code System.err}, interactive when the JVM has a console, a line every 30 s
   * otherwise.
   *
   * @param label what is counted
   * @param total how many items in all
   * @param alreadyDone items done before this run (reused), not counted in the rate
   */
  public static ConsoleProgress onStderr(String label, long total, long alreadyDone) {
    return new ConsoleProgress(
        label, total, alreadyDone, System.err, System.console() != null, 30, System::nanoTime);
  }

  /** A bar with every setting given (tests). */
  public ConsoleProgress(
      String label,
      long total,
      long alreadyDone,
      PrintStream out,
      boolean interactive,
      double lineEverySeconds,
      LongSupplier clock) {
    this.label = label;
    this.total = total;
    this.out = out;
    this.interactive = interactive;
    this.lineEveryNanos = (long) (lineEverySeconds * 1e9);
    this.clock = clock;
    this.startNanos = clock.getAsLong();
    this.startDone = alreadyDone;
    this.line = new Line(out, interactive);
  }

  /** Reports {@code done} items out of the total; draws when it is time to. */
  public void update(long done) {
    long now = clock.getAsLong();
    boolean last = done >= total;
    long interval = interactive ? 100_000_000L : lineEveryNanos;
    if (!last && lastDrawNanos != Long.MIN_VALUE && now - lastDrawNanos < interval) {
      return;
    }
    lastDrawNanos = now;
    double seconds = (now - startNanos) / 1e9;
    long doneHere = done - startDone;
    double rate = seconds > 0 ? doneHere / seconds : 0;
    double eta = doneHere > 0 ? seconds / doneHere * Math.max(0, total - done) : Double.NaN;
    line.show(
        label
            + " "
            + bar(done, total, 30)
            + String.format(Locale.ROOT, " | %.2f/s | ETA ", rate)
            + (Double.isNaN(eta) ? "--:--:--" : duration(eta)));
  }

  /** Ends the redrawn line. */
  @Override
  public void close() {
    line.end();
  }

  /**
   * One status line: redrawn in place on a terminal (carriage return, blanks over a longer previous
   * line), printed as a new line otherwise.
   */
  public static final class Line {
    private final PrintStream out;
    private final boolean interactive;
    private int lastLength;
    private boolean drawn;

    /** A line on {@code out}, redrawn in place when {@code interactive}. */
    public Line(PrintStream out, boolean interactive) {
      this.out = out;
      this.interactive = interactive;
    }

    /** Shows {@code text}. */
    public void show(String text) {
      if (interactive) {
        StringBuilder sb = new StringBuilder("\r").append(text);
        for (int i = text.length(); i < lastLength; i++) {
          sb.append(' ');
        }
        lastLength = text.length();
        out.print(sb);
        drawn = true;
      } else {
        out.println(text);
      }
      out.flush();
    }

    /** Ends a redrawn line, so that what follows starts on a line of its own. */
    public void end() {
      if (interactive && drawn) {
        out.println();
        out.flush();
        drawn = false;
        lastLength = 0;
      }
    }
  }

  /** {@code [###---] 12.5% 1/8}: a bar of {@code width} cells, or {@code n} when total <= 0. */
  public static String bar(long done, long total, int width) {
    if (total <= 0) {
      return String.valueOf(done);
    }
    double fraction = Math.min(1.0, Math.max(0.0, (double) done / total));
    int filled = (int) Math.floor(fraction * width);
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < width; i++) {
      sb.append(i < filled ? '#' : '-');
    }
    return sb.append("] ")
        .append(String.format(Locale.ROOT, "%5.1f%% %d/%d", fraction * 100, done, total))
        .toString();
  }

  /** {@code H:MM:SS}, hours unbounded. */
  public static String duration(double seconds) {
    long s = Math.round(Math.max(0, seconds));
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
