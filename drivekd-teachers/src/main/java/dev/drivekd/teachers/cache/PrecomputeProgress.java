package dev.drivekd.teachers.cache;

import java.time.Duration;
import java.util.Locale;

/**
 * How far a {@link TeacherTargetPrecomputer} run is: samples done of the total, time spent and
 * bytes of targets stored so far; {@link #line()} is the progress line it logs.
 *
 * @param done samples written
 * @param total samples in the dataset
 * @param elapsed time since the run started
 * @param targetBytes float32 bytes of targets written (chunk framing not counted)
 */
public record PrecomputeProgress(int done, int total, Duration elapsed, long targetBytes) {

  /** Samples per second so far (0 before the first sample). */
  public double samplesPerSecond() {
    double seconds = elapsed.toNanos() / 1e9;
    return seconds <= 0 ? 0 : done / seconds;
  }

  /** The estimated time left at the rate so far; zero when done, null before the first sample. */
  public Duration remaining() {
    if (done >= total) {
      return Duration.ZERO;
    }
    if (done == 0) {
      return null;
    }
    return Duration.ofNanos((long) ((double) elapsed.toNanos() / done * (total - done)));
  }

  /**
   * One line, e.g. {@code "teacher targets 120/6000 (2.0%), 3.10 samples/s, 1.2 GB, 1m 12s elapsed,
   * ETA 31m 36s"}.
   */
  public String line() {
    Duration left = remaining();
    return String.format(
        Locale.ROOT,
        "teacher targets %d/%d (%.1f%%), %.2f samples/s, %s, %s elapsed, ETA %s",
        done,
        total,
        total == 0 ? 100.0 : 100.0 * done / total,
        samplesPerSecond(),
        bytes(targetBytes),
        duration(elapsed),
        left == null ? "?" : duration(left));
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KB", "MB", "GB", "TB"};
    double v = b;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static String duration(Duration d) {
    long s = d.toSeconds();
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m " + (s % 60) + "s";
    }
    return (s / 3600) + "h " + (s % 3600 / 60) + "m";
  }
}
