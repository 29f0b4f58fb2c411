package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code drivekd train} killed with SIGKILL in the middle of a run, then {@code --resume}: the
 * trained student equals an uninterrupted run's, bit for bit.
 */
class TrainKillResumeTest {

  @TempDir Path dir;

  private Path recipe(Path data, String name) throws Exception {
    return SynthDriveRecipe.write(
        dir,
        data,
        name,
        List.of("perception", "planning"),
        "loss_weights: {dynamic: true}",
        "optimizer: {learning_rate: 3.0e-3}",
        "training: {epochs: 6, micro_batch: 1, accumulation: 1}",
        "checkpoints: {every: 3}");
  }

  private static Process start(Path recipe, boolean resume) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow());
    command.addAll(
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("-D") || a.startsWith("-Xm"))
            .toList());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(DriveKdCommand.class.getName());
    command.add("train");
    command.add("--recipe");
    command.add(recipe.toString());
    if (resume) {
      command.add("--resume");
    }
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  @Test
  void aRunKilledMidwayResumesToTheSameWeights() throws Exception {
    Path data = dir.resolve("data");
    assertEquals(
        0,
        DriveKdCommandTest.run(
                "generate",
                "--out",
                data.toString(),
                "--split",
                "labelled",
                "--scenes",
                "4",
                "--with-teachers")
            .status());
    Path whole = recipe(data, "whole");
    Process uninterrupted = start(whole, false);
    assertTrue(uninterrupted.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, uninterrupted.exitValue());

    Path killed = recipe(data, "killed");
    Path checkpoints = dir.resolve("runs/killed/checkpoints");
    Process run = start(killed, false);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    // kill -9 once a mid-run checkpoint exists (72 optimizer steps in all; one every 3)
    while (!Files.isDirectory(checkpoints.resolve("step-000009")) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(run.isAlive(), "the run ended before it could be killed");
    run.destroyForcibly(); // SIGKILL
    assertTrue(run.waitFor(1, TimeUnit.MINUTES));
    assertTrue(run.exitValue() != 0);
    assertTrue(
        !Files.exists(dir.resolve("runs/killed/student/model.safetensors")),
        "killed before the end");

    Process resumed = start(killed, true);
    assertTrue(resumed.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, resumed.exitValue());
    assertEquals(
        -1L,
        Files.mismatch(
            dir.resolve("runs/whole/student/model.safetensors"),
            dir.resolve("runs/killed/student/model.safetensors")),
        "the resumed run's student equals the uninterrupted run's");
  }
}
