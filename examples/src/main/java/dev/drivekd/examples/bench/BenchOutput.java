package dev.drivekd.examples.bench;

import picocli.CommandLine.Option;

/**
 * The options every {@code bench} command shares: how figures are printed and where peaks are
 * taken.
 */
final class BenchOutput {

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Option(
      names = "--in-process",
      description =
          "Measure peak memory in this JVM instead of a child JVM with the allocator setting"
              + " (glibc then reuses freed memory and the peaks undercount).")
  boolean inProcess;
}
