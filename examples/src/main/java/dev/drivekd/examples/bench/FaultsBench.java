package dev.drivekd.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code drivekd bench faults}: kill -9 campaigns against training and the teacher cache. */
@Command(
    name = "faults",
    mixinStandardHelpOptions = true,
    description =
        "Kills `drivekd train` with SIGKILL at seeded random moments (many inside checkpoint"
            + " writes) and resumes it each time, then checks that the final student equals an"
            + " uninterrupted run's bit for bit and that no corrupt checkpoint was ever loaded;"
            + " kills `drivekd cache-teachers` likewise and checks that no partial cache is ever"
            + " readable and that the finished cache equals an uninterrupted one.")
public final class FaultsBench implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Option(names = "--kills", defaultValue = "20", description = "Kills of the training run.")
  int kills;

  @Option(
      names = "--cache-kills",
      defaultValue = "5",
      description = "Kills of cache-teachers (0: no cache campaign).")
  int cacheKills;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the kill moments.")
  long seed;

  @Option(names = "--scenes", defaultValue = "4", description = "SynthDrive scenes to train on.")
  int scenes;

  @Option(names = "--epochs", defaultValue = "6", description = "Epochs of the training run.")
  int epochs;

  @Option(names = "--keep", description = "Keep the work folder (runs, logs) and print its path.")
  boolean keep;

  @Override
  public Integer call() throws Exception {
    if (kills < 1 || cacheKills < 0 || scenes < 1 || epochs < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--kills, --scenes and --epochs must be positive, --cache-kills not negative");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path work = Files.createTempDirectory("drivekd-bench-faults");
    try {
      Map<String, Object> f =
          new FaultCampaign(
                  kills,
                  cacheKills,
                  seed,
                  scenes,
                  epochs,
                  line -> {
                    err.println("[bench] " + line);
                    err.flush();
                  })
              .run(work);
      if (keep) {
        f.put("work", work.toString());
      }
      if (json) {
        out.println(
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(f));
      } else {
        out.printf(
            "training: %s kills (%s inside a checkpoint write), %s resumes; checkpoints found"
                + " corrupt %s, corrupt checkpoints loaded %s; steps lost per resume: max %s,"
                + " mean %s; final weights equal an uninterrupted run's: %s%n",
            f.get("kills"),
            f.get("kills_during_checkpoint_write"),
            f.get("resumes"),
            f.get("checkpoints_found_corrupt"),
            f.get("corrupt_checkpoints_loaded"),
            f.get("steps_lost_max"),
            f.get("steps_lost_mean"),
            f.get("final_weights_equal"));
        if (f.containsKey("cache_kills")) {
          out.printf(
              "teacher cache: %s kills; partial caches accepted %s; finished cache equals an"
                  + " uninterrupted one: %s%n",
              f.get("cache_kills"), f.get("partial_caches_accepted"), f.get("cache_equal"));
        }
      }
      out.flush();
      boolean ok =
          Boolean.TRUE.equals(f.get("final_weights_equal"))
              && ((Number) f.get("corrupt_checkpoints_loaded")).intValue() == 0
              && !Boolean.FALSE.equals(f.get("cache_equal"))
              && ((Number) f.getOrDefault("partial_caches_accepted", 0)).intValue() == 0;
      return ok ? 0 : 1;
    } finally {
      if (!keep) {
        BenchSupport.deleteRecursively(work);
      }
    }
  }
}
