package dev.drivekd.examples.bench;

import ai.djl.ndarray.NDManager;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.checkpoint.Checkpoint;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.StoredCheckpoint;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Corrupts every kind of file a run reads, one file and one corruption at a time, and records what
 * drivekd does with it: a checkpoint part (the newest checkpoint must be passed over for the
 * previous one), the {@code latest} pointer, a trained student's weights and configuration, a
 * teacher-cache chunk and index, the tokenizer and the dataset file. Corruptions: truncated to half
 * its size, one bit flipped in the middle, emptied.
 *
 * <p>Each case is run on a fresh copy of the artifacts. Its outcome is {@code refused} (an
 * exception; {@code names_file} says whether its message names the corrupted file), {@code previous
 * checkpoint} (the store passed over the corrupt newest checkpoint) or {@code loaded} (no error:
 * the corruption went undetected; for formats without a checksum this is reported, not hidden).
 */
final class CorruptionCampaign {

  /** How a file is damaged. */
  enum Damage {
    TRUNCATED("truncated to half"),
    BIT_FLIP("one bit flipped mid-file"),
    EMPTY("zero length");

    final String label;

    Damage(String label) {
      this.label = label;
    }

    void apply(Path file) throws IOException {
      byte[] bytes = Files.readAllBytes(file);
      switch (this) {
        case TRUNCATED -> Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        case BIT_FLIP -> {
          if (bytes.length > 0) {
            bytes[bytes.length / 2] ^= 0x10;
          }
          Files.write(file, bytes);
        }
        case EMPTY -> Files.write(file, new byte[0]);
      }
    }
  }

  /** One case's result. */
  record Case(
      String artifact,
      String file,
      String damage,
      String outcome,
      boolean namesFile,
      String message) {
    /** Whether drivekd caught the corruption (refused, or fell back to a valid checkpoint). */
    boolean caught() {
      return !outcome.startsWith("loaded");
    }
  }

  private final Consumer<String> progress;

  CorruptionCampaign(Consumer<String> progress) {
    this.progress = progress;
  }

  Map<String, Object> run(Path work) throws Exception {
    Path data = work.resolve("data");
    FaultCampaign.generate(work, data, 3, progress);
    Path cache = work.resolve("cache");
    Path recipe = FaultCampaign.recipe(work, data, "run", cache, 1);
    progress.accept("training a short run with checkpoints and caching its teachers");
    ChildRun.start(
            work.resolve("run.log"), List.of("cache-teachers", "--recipe", recipe.toString()))
        .requireSuccess(0);
    ChildRun.start(work.resolve("run.log"), List.of("train", "--recipe", recipe.toString()))
        .requireSuccess(0);
    Path run = work.resolve("runs/run");
    Path checkpoints = run.resolve("checkpoints");
    List<StoredCheckpoint> stored = CheckpointStore.open(checkpoints).list();
    if (stored.size() < 2) {
      throw new IllegalStateException("the run left fewer than two checkpoints in " + checkpoints);
    }
    StoredCheckpoint newest = stored.get(stored.size() - 1);

    // what the cache cases read besides the cache, read once
    DrivingDataset dataset =
        DrivingDatasetReader.builder()
            .optDataRoot(data)
            .build()
            .read(data.resolve("labelled.json"));
    WordTokenizer tokenizer = WordTokenizer.load(data.resolve("tokenizer.json"));
    List<Case> cases = new ArrayList<>();
    for (Damage damage : Damage.values()) {
      try (Stream<Path> parts = Files.list(newest.directory())) {
        for (Path part : parts.sorted().toList()) {
          cases.add(checkpointCase(work, checkpoints, newest, part, damage));
        }
      }
      cases.add(
          checkpointCase(
              work, checkpoints, newest, checkpoints.resolve(CheckpointStore.LATEST), damage));
      for (String f : List.of("model.safetensors", "config.json")) {
        cases.add(studentCase(work, run.resolve("student"), f, damage));
      }
      try (Stream<Path> files = Files.list(cache)) {
        for (Path f : files.sorted().toList()) {
          cases.add(cacheCase(work, cache, f.getFileName().toString(), dataset, tokenizer, damage));
        }
      }
      cases.add(tokenizerCase(work, data.resolve("tokenizer.json"), damage));
      cases.add(datasetCase(work, data, damage));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "corruption");
    m.put("cases_tried", cases.size());
    m.put("cases_caught", cases.stream().filter(Case::caught).count());
    m.put(
        "refusals_naming_the_file",
        cases.stream().filter(c -> c.outcome().equals("refused") && c.namesFile()).count());
    m.put("refusals", cases.stream().filter(c -> c.outcome().equals("refused")).count());
    m.put(
        "undetected",
        cases.stream()
            .filter(c -> !c.caught())
            .map(c -> c.file() + " (" + c.damage() + ")")
            .toList());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Case c : cases) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("artifact", c.artifact());
      row.put("file", c.file());
      row.put("damage", c.damage());
      row.put("outcome", c.outcome());
      row.put("names_file", c.namesFile());
      row.put("message", c.message());
      rows.add(row);
    }
    m.put("cases", rows);
    return m;
  }

  // ------------------------------------------------------------------------------------ cases

  private Case checkpointCase(
      Path work, Path checkpoints, StoredCheckpoint newest, Path part, Damage damage)
      throws IOException {
    Path copy = fresh(work, checkpoints);
    Path target = copy.resolve(checkpoints.relativize(part));
    damage.apply(target);
    String name = part.getFileName().toString();
    String file = name.equals(CheckpointStore.LATEST) ? name : newest.name() + "/" + name;
    try (NDManager manager = NDManager.newBaseManager(ComputeDevice.select())) {
      Optional<Checkpoint> loaded = CheckpointStore.open(copy).latestValid(manager);
      if (loaded.isEmpty()) {
        return new Case("checkpoint", file, damage.label, "refused", false, "no valid checkpoint");
      }
      long step = loaded.get().counters().optimizerStep();
      if (step == newest.optimizerStep()) {
        // the pointer is a hint: a damaged pointer with an intact newest checkpoint loses nothing
        boolean pointer = name.equals(CheckpointStore.LATEST);
        return new Case(
            "checkpoint",
            file,
            damage.label,
            pointer ? "newest checkpoint, verified" : "loaded",
            false,
            "");
      }
      return new Case(
          "checkpoint",
          file,
          damage.label,
          "previous checkpoint (" + CheckpointStore.folderName(step) + ")",
          false,
          "");
    } catch (RuntimeException e) {
      return refused("checkpoint", file, damage, e, target);
    } finally {
      progress.accept("checkpoint " + file + ": " + damage.label);
    }
  }

  private Case studentCase(Path work, Path studentDir, String name, Damage damage)
      throws IOException {
    Path copy = fresh(work, studentDir);
    Path target = copy.resolve(name);
    damage.apply(target);
    try (InternVlModel model = InternVlModel.load(copy, ComputeDevice.select())) {
      return new Case(
          "student weights",
          "student/" + name,
          damage.label,
          "loaded (safetensors has no checksum)",
          false,
          "");
    } catch (IOException | RuntimeException e) {
      return refused("student weights", "student/" + name, damage, e, target);
    }
  }

  private Case cacheCase(
      Path work,
      Path cache,
      String name,
      DrivingDataset dataset,
      WordTokenizer tokenizer,
      Damage damage)
      throws IOException {
    Path copy = fresh(work, cache);
    Path target = copy.resolve(name);
    damage.apply(target);
    try (InternVlModel student =
            InternVlModel.create(
                InternVlConfig.preset("student-tiny").withTokenizer(tokenizer.identity()),
                ComputeDevice.select(),
                1);
        CachedTeacherTargets cached =
            CachedTeacherTargets.builder(copy)
                .setStudent(student.card())
                .setDataset(dataset)
                .optCapabilities(EnumSet.of(Capability.PERCEPTION, Capability.PLANNING))
                .open();
        NDManager m = NDManager.newBaseManager(ComputeDevice.select())) {
      BatchEncoder encoder = BenchSupport.encoder(tokenizer, student.card());
      DistillationRecipe recipe = DistillationRecipe.paper();
      for (int i = 0; i < dataset.size(); i++) {
        DrivingSample sample = dataset.get(i);
        VlmBatch batch =
            encoder.encodeSamples(m, List.of(sample), BatchEncoder.PromptMode.TRAINING);
        Map<Capability, SortedSet<Integer>> layers = new EnumMap<>(Capability.class);
        for (Capability c : cached.capabilities()) {
          layers.put(c, recipe.teacherLayers(c, student.card().depth(), cached.card(c).depth()));
        }
        cached.targets(i, sample, batch, layers);
      }
      return new Case("teacher cache", "cache/" + name, damage.label, "loaded", false, "");
    } catch (RuntimeException e) {
      return refused("teacher cache", "cache/" + name, damage, e, target);
    }
  }

  private Case tokenizerCase(Path work, Path file, Damage damage) throws IOException {
    Path copy = fresh(work, file.getParent()).resolve(file.getFileName());
    WordTokenizer original = WordTokenizer.load(file);
    damage.apply(copy);
    try {
      WordTokenizer loaded = WordTokenizer.load(copy);
      boolean changed = !loaded.identity().equals(original.identity());
      return new Case(
          "tokenizer",
          "tokenizer.json",
          damage.label,
          changed
              ? "identity changed (models made for the original are refused with it)"
              : "loaded",
          false,
          "");
    } catch (RuntimeException e) {
      return refused("tokenizer", "tokenizer.json", damage, e, copy);
    }
  }

  private Case datasetCase(Path work, Path data, Damage damage) throws IOException {
    Path copy = fresh(work, data);
    Path file = copy.resolve("labelled.json");
    damage.apply(file);
    try {
      DrivingDataset dataset = DrivingDatasetReader.builder().optDataRoot(copy).build().read(file);
      return new Case(
          "dataset",
          "labelled.json",
          damage.label,
          "loaded (" + dataset.size() + " records; JSON has no checksum)",
          false,
          "");
    } catch (RuntimeException e) {
      return refused("dataset", "labelled.json", damage, e, file);
    }
  }

  private static Case refused(
      String artifact, String file, Damage damage, Exception e, Path target) {
    String message = String.valueOf(e.getMessage());
    String first = message.lines().findFirst().orElse("");
    boolean names = message.contains(target.getFileName().toString());
    return new Case(artifact, file, damage.label, "refused", names, first);
  }

  /** A fresh copy of {@code dir} under {@code work/cases}. */
  private static Path fresh(Path work, Path dir) throws IOException {
    Path cases = work.resolve("cases");
    if (Files.exists(cases)) {
      try (Stream<Path> walk = Files.walk(cases)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Path copy = cases.resolve(dir.getFileName());
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.toList()) {
        Path to = copy.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return copy;
  }
}
