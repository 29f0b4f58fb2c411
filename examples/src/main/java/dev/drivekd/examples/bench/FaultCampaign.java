package dev.drivekd.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.train.checkpoint.CheckpointException;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.StoredCheckpoint;
import dev.drivekd.examples.recipe.SynthDriveRecipes;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Kill -9 campaigns against {@code drivekd train} and {@code drivekd cache-teachers}, each run in a
 * child JVM on SynthDrive data made by {@code drivekd generate --with-teachers}.
 *
 * <p><b>Training.</b> An uninterrupted run gives the reference weights. The same recipe (checkpoint
 * after every optimizer step, so that many kills land inside a checkpoint write) is then started,
 * killed with SIGKILL after a seeded random delay, and resumed with {@code --resume}, {@code kills}
 * times (fewer only if the run reaches its end first), and finally resumed to its end. After each
 * kill every checkpoint folder is verified (manifest, sizes, SHA-256); the next resume's metrics
 * header says which step it resumed from, which must be a verified one. At the end the weights must
 * equal the reference's bit for bit.
 *
 * <p><b>Teacher cache.</b> {@code cache-teachers} is killed {@code cacheKills} times at random
 * moments; after each kill the recipe's cache folder must not exist (a partial cache is never
 * readable), and the run that finishes must write the same files, byte for byte, as an
 * uninterrupted one.
 */
final class FaultCampaign {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final int kills;
  private final int cacheKills;
  private final long seed;
  private final int scenes;
  private final int epochs;
  private final Consumer<String> progress;

  FaultCampaign(
      int kills, int cacheKills, long seed, int scenes, int epochs, Consumer<String> progress) {
    this.kills = kills;
    this.cacheKills = cacheKills;
    this.seed = seed;
    this.scenes = scenes;
    this.epochs = epochs;
    this.progress = progress;
  }

  Map<String, Object> run(Path work) throws Exception {
    long began = System.nanoTime();
    Path data = work.resolve("data");
    generate(work, data, scenes, progress);

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "faults");
    m.put("seed", seed);
    m.put("scenes", scenes);
    m.put("epochs", epochs);
    m.putAll(trainingCampaign(work, data));
    if (cacheKills > 0) {
      m.putAll(cacheCampaign(work, data));
    }
    m.put("seconds", BenchSupport.round((System.nanoTime() - began) / 1e9));
    return m;
  }

  /** {@code drivekd generate --with-teachers}: SynthDrive scenes, a tokenizer and teachers. */
  static void generate(Path work, Path data, int scenes, Consumer<String> progress)
      throws Exception {
    progress.accept("generating SynthDrive data and teachers (" + scenes + " scenes)");
    ChildRun.start(
            work.resolve("generate.log"),
            List.of(
                "generate",
                "--out",
                data.toString(),
                "--split",
                "labelled",
                "--scenes",
                Integer.toString(scenes),
                "--with-teachers"))
        .requireSuccess(TimeUnit.MINUTES.toMillis(10));
  }

  // ------------------------------------------------------------------------------ training

  private Map<String, Object> trainingCampaign(Path work, Path data) throws Exception {
    Path reference = recipe(work, data, "reference", null, epochs);
    progress.accept("uninterrupted reference run");
    long t0 = System.nanoTime();
    ChildRun whole = ChildRun.start(work.resolve("reference.log"), train(reference, false));
    long firstCheckpointMs = -1;
    Path referenceCheckpoints = work.resolve("runs/reference/checkpoints");
    while (whole.alive()) {
      if (firstCheckpointMs < 0 && hasCheckpoint(referenceCheckpoints)) {
        firstCheckpointMs = (System.nanoTime() - t0) / 1_000_000;
      }
      Thread.sleep(5);
    }
    whole.requireSuccess(0);
    long wholeMs = (System.nanoTime() - t0) / 1_000_000;
    if (firstCheckpointMs < 0) {
      firstCheckpointMs = wholeMs / 2;
    }
    // kills spread so that `kills` attempts cover about half of the training part of the run:
    // the run rarely reaches its end before the last kill, and the final resume trains the rest
    long trainingMs = Math.max(1, wholeMs - firstCheckpointMs);
    long window = Math.max(1, trainingMs / Math.max(1, kills));

    Path killed = recipe(work, data, "killed", null, epochs);
    Path runDir = work.resolve("runs/killed");
    CheckpointStore store = CheckpointStore.open(runDir.resolve("checkpoints"));
    Random random = new Random(seed);
    int done = 0;
    int duringCheckpointWrite = 0;
    int attempts = 0;
    int corruptFound = 0;
    Set<String> corruptNames = new HashSet<>();
    boolean finishedEarly = false;
    while (done < kills) {
      long delay =
          (long) (firstCheckpointMs * (0.8 + 0.2 * random.nextDouble()))
              + (long) (random.nextDouble() * window);
      ChildRun child = ChildRun.start(work.resolve("killed.log"), train(killed, attempts > 0));
      attempts++;
      if (!child.killAfter(delay)) {
        finishedEarly = true;
        child.requireSuccess(0);
        break;
      }
      done++;
      if (hasPartialSave(runDir.resolve("checkpoints"))) {
        duringCheckpointWrite++;
      }
      for (StoredCheckpoint s : store.list()) {
        try {
          store.verify(s.name());
        } catch (CheckpointException e) {
          corruptFound++;
          corruptNames.add(s.name());
          progress.accept("kill " + done + ": " + e.getMessage());
        }
      }
      progress.accept(
          String.format(
              "kill %d/%d after %d ms%s",
              done,
              kills,
              delay,
              hasPartialSave(runDir.resolve("checkpoints")) ? " (inside a checkpoint write)" : ""));
    }
    if (!finishedEarly) {
      progress.accept("final resume to the end");
      ChildRun last = ChildRun.start(work.resolve("killed.log"), train(killed, true));
      attempts++;
      last.requireSuccess(TimeUnit.MINUTES.toMillis(30));
    }
    Resumes resumes = Resumes.read(runDir.resolve("metrics.jsonl"));
    int loadedCorrupt = 0;
    for (long step : resumes.resumedSteps()) {
      if (step > 0 && corruptNames.contains(CheckpointStore.folderName(step))) {
        loadedCorrupt++;
      }
    }
    boolean equal =
        Files.mismatch(
                work.resolve("runs/reference/student/model.safetensors"),
                runDir.resolve("student/model.safetensors"))
            == -1L;

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kills", done);
    m.put("resumes", attempts - 1);
    m.put("runs_that_reached_training", resumes.resumedSteps().size());
    m.put("kills_during_checkpoint_write", duringCheckpointWrite);
    m.put("checkpoints_found_corrupt", corruptFound);
    m.put("corrupt_checkpoints_loaded", loadedCorrupt);
    m.put("steps_lost_per_resume", resumes.lostSteps());
    m.put(
        "steps_lost_max", resumes.lostSteps().stream().mapToLong(Long::longValue).max().orElse(0));
    m.put(
        "steps_lost_mean",
        BenchSupport.round(
            resumes.lostSteps().stream().mapToLong(Long::longValue).average().orElse(0)));
    m.put("optimizer_steps", resumes.lastStep());
    m.put("reference_run_ms", wholeMs);
    m.put("final_weights_equal", equal);
    return m;
  }

  private static List<String> train(Path recipe, boolean resume) {
    List<String> args = new ArrayList<>(List.of("train", "--recipe", recipe.toString()));
    if (resume) {
      args.add("--resume");
    }
    return args;
  }

  private static boolean hasCheckpoint(Path dir) {
    return Files.exists(dir.resolve(CheckpointStore.LATEST));
  }

  /** A save the kill interrupted leaves its temporary folder ({@code .tmp-...}). */
  private static boolean hasPartialSave(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-"));
    }
  }

  /**
   * The run's metrics file: each header after the first is a resume and says the step it resumed
   * from; the step lines before it say how far the killed attempt had come.
   */
  record Resumes(List<Long> resumedSteps, List<Long> lostSteps, long lastStep) {
    static Resumes read(Path metrics) throws IOException {
      List<Long> resumed = new ArrayList<>();
      List<Long> lost = new ArrayList<>();
      long last = 0;
      boolean first = true;
      for (String line : Files.readAllLines(metrics)) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException e) {
          continue; // a line torn by the kill
        }
        String type = node.path("type").asText();
        if (type.equals("header")) {
          long start = node.path("start").path("optimizerStep").asLong();
          if (!first) {
            resumed.add(start);
            lost.add(Math.max(0, last - start));
          }
          first = false;
          last = start;
        } else if (type.equals("step")) {
          last = node.path("optimizerStep").asLong();
        }
      }
      return new Resumes(resumed, lost, last);
    }
  }

  // --------------------------------------------------------------------------- teacher cache

  private Map<String, Object> cacheCampaign(Path work, Path data) throws Exception {
    Path referenceCache = work.resolve("cache-reference");
    Path reference = recipe(work, data, "cache-reference", referenceCache, epochs);
    progress.accept("uninterrupted cache-teachers");
    long t0 = System.nanoTime();
    ChildRun whole =
        ChildRun.start(
            work.resolve("cache-reference.log"),
            List.of("cache-teachers", "--recipe", reference.toString()));
    long writingFromMs = -1;
    while (whole.alive()) {
      if (writingFromMs < 0 && Files.exists(partial(referenceCache))) {
        writingFromMs = (System.nanoTime() - t0) / 1_000_000;
      }
      Thread.sleep(2);
    }
    whole.requireSuccess(0);
    long wholeMs = (System.nanoTime() - t0) / 1_000_000;
    long writingMs = Math.max(1, wholeMs - Math.max(0, writingFromMs));

    Path cache = work.resolve("cache-killed");
    Path killed = recipe(work, data, "cache-killed", cache, epochs);
    Random random = new Random(seed + 1);
    int done = 0;
    int duringWrite = 0;
    int partialAccepted = 0;
    for (int i = 0; i < cacheKills; i++) {
      ChildRun child =
          ChildRun.start(
              work.resolve("cache-killed.log"),
              List.of("cache-teachers", "--recipe", killed.toString()));
      // once the teachers run and the cache is being written, kill at a random moment of it
      while (child.alive() && !Files.exists(partial(cache))) {
        Thread.sleep(2);
      }
      long delay = (long) (random.nextDouble() * writingMs);
      if (!child.killAfter(delay)) {
        child.requireSuccess(0);
        break;
      }
      done++;
      boolean writing = Files.exists(partial(cache));
      if (writing) {
        duringWrite++;
      }
      if (Files.exists(cache)) {
        // only a finished cache is renamed into place; it must be complete
        if (!sameFiles(referenceCache, cache)) {
          partialAccepted++;
        }
        deleteRecursively(cache);
      }
      progress.accept(
          "cache kill "
              + done
              + "/"
              + cacheKills
              + " "
              + delay
              + " ms into the writing"
              + (writing ? " (cache unfinished)" : ""));
    }
    if (!Files.exists(cache)) {
      ChildRun.start(
              work.resolve("cache-killed.log"),
              List.of("cache-teachers", "--recipe", killed.toString()))
          .requireSuccess(TimeUnit.MINUTES.toMillis(10));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cache_kills", done);
    m.put("cache_kills_during_write", duringWrite);
    m.put("partial_caches_accepted", partialAccepted);
    m.put("cache_equal", sameFiles(referenceCache, cache));
    return m;
  }

  /** Where {@code cache-teachers} writes a cache before renaming it into place. */
  private static Path partial(Path cache) {
    return cache.resolveSibling(cache.getFileName() + TeacherTargetPrecomputer.PARTIAL_SUFFIX);
  }

  private static boolean sameFiles(Path a, Path b) throws IOException {
    List<Path> left = relativeFiles(a);
    if (!left.equals(relativeFiles(b))) {
      return false;
    }
    for (Path p : left) {
      if (Files.mismatch(a.resolve(p), b.resolve(p)) != -1L) {
        return false;
      }
    }
    return true;
  }

  private static List<Path> relativeFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(dir::relativize).sorted().toList();
    }
  }

  private static void deleteRecursively(Path dir) {
    BenchSupport.deleteRecursively(dir);
  }

  // ---------------------------------------------------------------------------------- recipes

  /**
   * A recipe over the generated data: student-tiny, perception and planning teachers (live, or
   * cached into {@code cache}), dynamic loss weights, a checkpoint after every optimizer step.
   */
  static Path recipe(Path work, Path data, String name, Path cache, int epochs) throws IOException {
    return SynthDriveRecipes.write(
        work.resolve(name + ".yaml"),
        work.resolve("runs").resolve(name),
        data,
        cache,
        List.of("perception", "planning"),
        "loss_weights: {dynamic: true}",
        "optimizer: {learning_rate: 3.0e-3}",
        "training: {epochs: " + epochs + ", micro_batch: 1, accumulation: 1}",
        "checkpoints: {every: 1, keep_last: 3}");
  }
}
