package dev.drivekd.examples.cli;

import dev.drivekd.examples.bench.CorruptionBench;
import dev.drivekd.examples.bench.EvalBench;
import dev.drivekd.examples.bench.FaultsBench;
import dev.drivekd.examples.bench.GradprojBench;
import dev.drivekd.examples.bench.ModelBench;
import dev.drivekd.examples.bench.SoakBench;
import dev.drivekd.examples.bench.TrainerBench;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code drivekd bench ...}: benchmarks that print their figures. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks; ratios are measured side by side in one run.",
    subcommands = {
      CorruptionBench.class,
      EvalBench.class,
      FaultsBench.class,
      GradprojBench.class,
      ModelBench.class,
      SoakBench.class,
      TrainerBench.class
    })
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
