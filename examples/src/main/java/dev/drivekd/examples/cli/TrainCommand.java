package dev.drivekd.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.listener.MetricsFileListener;
import dev.drivekd.core.train.listener.ProgressBarListener;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.examples.recipe.Recipe;
import dev.drivekd.examples.recipe.RecipeReader;
import dev.drivekd.examples.recipe.RecipeRun;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code drivekd train --recipe r.yaml}: a distillation run from a recipe file. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Distil a student as a recipe file says (data, tokenizer, student, teachers, signals,"
          + " mixing, loss weights, projection, optimizer, schedule, checkpoints; see"
          + " docs/recipes.md). The run folder gets the recipe, its resolved form, checkpoints,"
          + " metrics.jsonl and the trained student.",
      "An interrupted run continues with --resume, unless its recipe changed (--allow-changed"
          + " KEY,... lets named keys differ)."
    })
final class TrainCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--recipe", required = true, description = "The recipe file (YAML).")
  Path recipeFile;

  @Option(names = "--resume", description = "Continue the run in the recipe's output folder.")
  boolean resume;

  @Option(
      names = "--allow-changed",
      split = ",",
      description =
          "Recipe keys (dotted, or a prefix such as training) that may differ on --resume.")
  List<String> allowChanged = new ArrayList<>();

  @Option(names = "--json", description = "Print the run's figures as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Recipe recipe = RecipeReader.read(recipeFile);
    Path out = Path.of(recipe.output());
    checkRunFolder(recipe, out);
    try (RecipeRun run = RecipeRun.open(recipeFile.toString(), recipe)) {
      RecipeRun.record(recipeFile, recipe, out);
      Recipe.Training t = recipe.training();
      long microSteps = (run.dataset().size() + t.microBatch() - 1) / t.microBatch();
      long total = LrSchedule.totalOptimizerSteps(t.epochs(), microSteps, t.accumulation());
      Recipe.Optimizer o = recipe.optimizer();
      Recipe.Schedule s = recipe.schedule();
      long warmup = Math.round(s.warmupRatio() * total);
      LrSchedule schedule =
          switch (s.kind()) {
            case "constant" -> LrSchedule.constant(o.learningRate());
            case "linear" -> LrSchedule.linear(o.learningRate(), total, warmup, s.minRatio());
            default -> LrSchedule.cosine(o.learningRate(), total, warmup, s.minRatio());
          };
      TeacherTargets teachers = teachers(recipe, run);
      DistillationTrainer.Builder b =
          DistillationTrainer.builder()
              .setStudent(run.student())
              .setEncoder(run.encoder())
              .optRecipe(run.distillation())
              .optMixing(run.mixing())
              .optLossWeighting(run.lossWeighting())
              .optProjection(run.projection())
              .optSchedule(schedule)
              .optWeightDecay(o.weightDecay())
              .optAdamW(o.beta1(), o.beta2(), o.epsilon())
              .optAccumulation(t.accumulation())
              .optMicroBatch(t.microBatch())
              .optEpochs(t.epochs())
              .optShuffle(t.shuffle())
              .optFreezeVision(t.freezeVision())
              .optSeed(recipe.seed())
              .optCheckpoints(
                  CheckpointStore.builder(out.resolve("checkpoints"))
                      .optKeepLast(recipe.checkpoints().keepLast())
                      .optKeepEvery(recipe.checkpoints().keepEvery())
                      .build(),
                  recipe.checkpoints().every())
              .optResume(resume)
              .addListener(ProgressBarListener.onStderr())
              .addListener(new MetricsFileListener(out.resolve("metrics.jsonl")));
      if (teachers != null) {
        b.optTeachers(teachers);
      }
      for (String key : allowChanged) {
        b.optResumeAllowing(trainerKeys(key).toArray(new String[0]));
      }
      TrainingSummary summary;
      long began = System.nanoTime();
      // the trainer closes the teachers: a panel leaves its models to the run, a cache its files
      try (DistillationTrainer trainer = b.build()) {
        summary = trainer.fit(run.dataset());
      }
      Path studentDir = out.resolve("student");
      if (run.student() instanceof InternVlModel native_) {
        native_.save(studentDir);
      }
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("run", out.toAbsolutePath().toString());
      f.put("samples", run.dataset().size());
      f.put("optimizer_steps", summary.optimizerSteps());
      f.put("micro_steps", summary.microSteps());
      f.put("skipped_updates", summary.skippedUpdates());
      f.put("seconds", Math.round((System.nanoTime() - began) / 1e7) / 100.0);
      Map<String, Double> phases = new LinkedHashMap<>();
      summary.phaseSeconds().forEach((k, v) -> phases.put(k, Math.round(v * 100) / 100.0));
      f.put("phase_seconds", phases);
      f.put(
          "student",
          run.student() instanceof InternVlModel ? studentDir.toAbsolutePath().toString() : null);
      if (json) {
        JsonOutput.print(spec.commandLine().getOut(), f);
      } else {
        spec.commandLine()
            .getOut()
            .printf(
                "trained %d optimizer steps (%d skipped) on %d samples; run folder %s%n"
                    + "seconds per phase: %s%n",
                summary.optimizerSteps(),
                summary.skippedUpdates(),
                run.dataset().size(),
                out.toAbsolutePath(),
                phases);
        spec.commandLine().getOut().flush();
      }
      return 0;
    }
  }

  /**
   * The trainer's configuration keys ({@code DistillationTrainer.configuration()}) that a recipe
   * key decides: a change the user allows in the recipe is allowed in the trainer too.
   */
  static List<String> trainerKeys(String recipeKey) {
    String k = recipeKey.strip();
    String top = k.contains(".") ? k.substring(0, k.indexOf('.')) : k;
    return switch (top) {
      case "training" ->
          switch (k) {
            case "training.epochs" -> List.of("epochs", "schedule");
            case "training.micro_batch" -> List.of("microBatch", "schedule");
            case "training.accumulation" -> List.of("accumulation", "schedule");
            case "training.shuffle" -> List.of("shuffle");
            case "training.freeze_vision" -> List.of("freezeVision");
            default ->
                List.of(
                    "epochs", "microBatch", "accumulation", "shuffle", "freezeVision", "schedule");
          };
      case "optimizer" ->
          k.equals("optimizer.learning_rate")
              ? List.of("schedule")
              : List.of("optimizer", "schedule");
      case "schedule" -> List.of("schedule");
      case "loss_weights" -> List.of("lossWeights");
      case "projection" -> List.of("projection");
      case "mixing" -> List.of("mixing");
      case "signals" -> List.of("recipe");
      case "seed" -> List.of("seed", "seeds");
      default -> List.of();
    };
  }

  /**
   * A fresh run needs an empty or new folder; a resumed one the same resolved recipe. {@code
   * --resume} on a folder that holds no run yet (a run killed before it began) starts it: a job
   * script can pass it on every start.
   */
  private void checkRunFolder(Recipe recipe, Path out) throws Exception {
    Path resolved = out.resolve(RecipeRun.RESOLVED);
    if (Files.exists(resolved)) {
      if (!resume) {
        throw new IllegalArgumentException(
            "output folder "
                + out.toAbsolutePath()
                + " holds a run already: --resume continues it,"
                + " or set another output");
      }
      JsonNode before = JSON.readTree(resolved.toFile());
      List<String> changed = new ArrayList<>();
      for (String d : RecipeRun.differences(before, RecipeRun.resolved(recipe))) {
        String key = d.substring(0, d.indexOf(": "));
        if (allowChanged.stream().noneMatch(a -> key.equals(a) || key.startsWith(a + "."))) {
          changed.add(d);
        }
      }
      if (!changed.isEmpty()) {
        throw new IllegalArgumentException(
            "the recipe changed since the run began ("
                + String.join("; ", changed)
                + "); --allow-changed KEY,... lets named keys differ");
      }
      return;
    }
    if (Files.isDirectory(out)) {
      // the temporary file of a resolved recipe whose write was killed
      try (Stream<Path> entries = Files.list(out)) {
        for (Path leftover :
            entries
                .filter(
                    p -> p.getFileName().toString().startsWith("." + RecipeRun.RESOLVED + ".tmp-"))
                .toList()) {
          LOG.warn("removing {}, left by a run killed before it began", leftover);
          Files.delete(leftover);
        }
      }
      try (Stream<Path> entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(
              "output folder " + out.toAbsolutePath() + " is not empty and holds no drivekd run");
        }
      }
    }
  }

  private static TeacherTargets teachers(Recipe recipe, RecipeRun run) {
    if (run.teachers().isEmpty()) {
      return null;
    }
    java.util.Set<dev.drivekd.core.data.Capability> cached = run.cachedCapabilities();
    if (cached.isEmpty()) {
      return TeacherPanel.of(run.teachers());
    }
    Path cache = Path.of(recipe.teacherCache());
    if (!Files.isDirectory(cache)) {
      throw new IllegalArgumentException(
          "teachers.cache "
              + cache.toAbsolutePath()
              + " does not exist: fill it with"
              + " drivekd cache-teachers --recipe "
              + "<this recipe>");
    }
    CachedTeacherTargets fromCache =
        CachedTeacherTargets.builder(cache)
            .optRecipe(run.distillation())
            .optCapabilities(cached)
            .setStudent(run.student().card())
            .setDataset(run.dataset())
            .open();
    if (cached.size() == run.teachers().size()) {
      return fromCache;
    }
    Map<dev.drivekd.core.data.Capability, dev.drivekd.core.model.VisionLanguageModel> live =
        new java.util.EnumMap<>(dev.drivekd.core.data.Capability.class);
    run.teachers()
        .forEach(
            (c, m) -> {
              if (!cached.contains(c)) {
                live.put(c, m);
              }
            });
    TeacherPanel panel = TeacherPanel.of(live);
    Map<dev.drivekd.core.data.Capability, TeacherTargets> sources =
        new java.util.EnumMap<>(dev.drivekd.core.data.Capability.class);
    for (dev.drivekd.core.data.Capability c : run.teachers().keySet()) {
      sources.put(c, cached.contains(c) ? fromCache : panel);
    }
    return dev.drivekd.teachers.cache.MixedTeacherTargets.of(sources);
  }
}
