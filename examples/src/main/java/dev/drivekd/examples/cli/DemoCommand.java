package dev.drivekd.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The main job. Until the trainer lands it says so plainly and shows what exists: the reference
 * demo data read and turned into the student's content blocks.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "The main job: distil a tiny student from three tiny teachers on the demo data.")
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    out.println(
        "drivekd demo: the distillation demo is not available yet (the trainer exists; the demo that"
            + " runs it on the embedded data is the next step)."
            + " Nothing was trained.");
    out.flush();
    return 0;
  }
}
