package dev.drivekd.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code drivekd} command in a child JVM (same class path and -D/-Xm options), its output
 * appended to a log file.
 */
record ChildRun(Process process, Path log) {

  /** The {@code drivekd} command's main class. */
  static final String MAIN = "dev.drivekd.examples.cli.DriveKdCommand";

  static ChildRun start(Path log, List<String> args) throws IOException {
    List<String> command =
        ChildJvm.command(o -> o.startsWith("-D") || o.startsWith("-Xm"), List.of(), MAIN, args);
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new ChildRun(p, log);
  }

  boolean alive() {
    return process.isAlive();
  }

  /**
   * Sends SIGKILL after {@code delayMs} unless the process ended first.
   *
   * @return whether it was killed
   */
  boolean killAfter(long delayMs) throws InterruptedException {
    if (process.waitFor(delayMs, TimeUnit.MILLISECONDS)) {
      return false;
    }
    process.destroyForcibly();
    process.waitFor();
    return true;
  }

  /** Waits (0: no limit) and fails with the log's tail unless the process exited with 0. */
  void requireSuccess(long timeoutMs) throws InterruptedException {
    boolean ended =
        timeoutMs <= 0 ? waitForever() : process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
    if (!ended) {
      process.destroyForcibly();
      throw new IllegalStateException("a child run did not end in time; see " + log);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          "a child run exited with status " + process.exitValue() + ": " + tail());
    }
  }

  private boolean waitForever() throws InterruptedException {
    process.waitFor();
    return true;
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
