package dev.drivekd.teachers.cache;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.checkpoint.DurableFiles;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Precomputes a teacher-target cache for a dataset: exactly what a {@link DistillationRecipe} needs
 * from each capability's teacher of a {@link TeacherPanel}, so that training can replay the targets
 * ({@link CachedTeacherTargets}) without loading the teachers (method.md 9, {@code
 * teacherForward_t}).
 *
 * <p>Per sample it encodes the sample as the trainer does (the student's {@link BatchEncoder},
 * {@code B = 1}, {@link BatchEncoder.PromptMode#TRAINING}), runs each <em>distinct</em> teacher
 * once with the union of the layers its roles need ({@code recipe.teacherLayers(c, N_s, N_t)}), and
 * stores per capability and layer the text-by-vision block (text-to-vision losses) or the full map
 * (full-map losses), as the capability's loss reads ({@link TargetKind#forLoss}). Every capability
 * of the recipe that the panel plays is stored for every sample: which teachers are active for a
 * sample is decided at training time (mixing row, loss weights).
 *
 * <p>The index records the cache recipe (each teacher's name, {@link WeightsFingerprint} and depth,
 * the entries), the dataset fingerprint and the panel (the teachers' cards, the roles, the
 * student's card). Memory: each sample is computed in its own sub-manager, closed before the next;
 * the writer holds one sample's targets.
 *
 * <pre>{@code
 * CacheIndex index = TeacherTargetPrecomputer.builder()
 *     .setTeachers(panel).optRecipe(DistillationRecipe.paper())
 *     .setStudent(student.card()).setEncoder(encoder)
 *     .build()
 *     .precompute(dataset, cacheDir);
 * }</pre>
 */
public final class TeacherTargetPrecomputer {

  private static final Logger LOG = LoggerFactory.getLogger(TeacherTargetPrecomputer.class);

  /** One distinct teacher model: what it is called in the cache and what it computes. */
  private record Plan(
      VisionLanguageModel model,
      TeacherIdentity identity,
      Set<Capability> roles,
      SortedSet<Integer> layers,
      Map<Integer, List<CacheRecipe.Entry>> entriesByLayer) {}

  private final DistillationRecipe recipe;
  private final BatchEncoder encoder;
  private final ModelCard student;
  private final List<Plan> plans;
  private final Map<Capability, TeacherIdentity> identities;
  private final CacheRecipe cacheRecipe;
  private final CachedPanel panel;
  private final Device device;
  private final String datasetFingerprint;
  private final int samplesPerChunk;
  private final long maxChunkBytes;
  private final Duration progressInterval;
  private final Consumer<PrecomputeProgress> progressListener;

  private TeacherTargetPrecomputer(Builder b) {
    this.recipe = b.recipe;
    this.encoder = b.encoder;
    this.student = b.student;
    this.datasetFingerprint = b.datasetFingerprint;
    this.samplesPerChunk = b.samplesPerChunk;
    this.maxChunkBytes = b.maxChunkBytes;
    this.progressInterval = b.progressInterval;
    this.progressListener = b.progressListener;

    Set<Capability> served = EnumSet.noneOf(Capability.class);
    for (Capability c : recipe.losses().keySet()) {
      if (b.teachers.roles().containsKey(c) && (b.only == null || b.only.contains(c))) {
        served.add(c);
      }
    }
    if (served.isEmpty()) {
      throw new IllegalArgumentException(
          "nothing to cache: the recipe's losses "
              + recipe.losses().keySet()
              + " and the panel's roles "
              + b.teachers.roles().keySet()
              + (b.only == null ? "" : " restricted to " + b.only)
              + " have no capability in common");
    }
    Map<Capability, ModelCard> cards = new EnumMap<>(Capability.class);
    for (Capability c : served) {
      cards.put(c, b.teachers.roles().get(c).card());
    }
    recipe.validate(student, cards);

    // Distinct models in the panel's order, each named and fingerprinted once.
    Map<VisionLanguageModel, Plan> byModel = new IdentityHashMap<>();
    List<Plan> ordered = new ArrayList<>();
    Set<String> names = new HashSet<>();
    CacheRecipe.Builder cache = CacheRecipe.builder();
    Map<Capability, TeacherIdentity> ids = new EnumMap<>(Capability.class);
    for (Capability c : served) {
      VisionLanguageModel m = b.teachers.roles().get(c);
      Plan plan = byModel.get(m);
      if (plan == null) {
        TeacherIdentity id = identity(m, b.identities.get(m), names);
        plan = new Plan(m, id, EnumSet.noneOf(Capability.class), new TreeSet<>(), new TreeMap<>());
        byModel.put(m, plan);
        ordered.add(plan);
        cache.addTeacher(id);
      }
      plan.roles().add(c);
      ids.put(c, plan.identity());
      int depth = m.card().depth();
      plan.layers().addAll(RecipeEntries.layers(recipe, c, student.depth(), depth));
      RecipeEntries.add(cache, plan.identity().name(), recipe, c, student.depth(), depth);
    }
    this.cacheRecipe = cache.build();
    for (CacheRecipe.Entry e : cacheRecipe.entries()) {
      for (Plan p : ordered) {
        if (p.identity().name().equals(e.teacher())) {
          p.entriesByLayer().computeIfAbsent(e.layer(), l -> new ArrayList<>()).add(e);
        }
      }
    }
    this.plans = Collections.unmodifiableList(ordered);
    this.identities = Collections.unmodifiableMap(ids);

    Map<String, ModelCard> teacherCards = new LinkedHashMap<>();
    Map<String, String> roles = new LinkedHashMap<>();
    for (Plan p : plans) {
      teacherCards.put(p.identity().name(), p.model().card());
      for (Capability c : p.roles()) {
        roles.put(c.key(), p.identity().name());
      }
    }
    this.panel = new CachedPanel(student, teacherCards, roles, recipe.toString());

    this.device = plans.get(0).model().device();
    for (Plan p : plans) {
      if (!p.model().device().equals(device)) {
        throw new IllegalArgumentException(
            "the teachers must share a device: "
                + plans.get(0).identity().name()
                + " is on "
                + device
                + ", "
                + p.identity().name()
                + " on "
                + p.model().device());
      }
    }
  }

  private static TeacherIdentity identity(
      VisionLanguageModel model, String[] given, Set<String> taken) {
    String name;
    String fingerprint;
    if (given != null) {
      name = given[0];
      fingerprint = given[1];
    } else {
      name = model.card().name();
      for (int k = 2; taken.contains(name); k++) {
        name = model.card().name() + "#" + k;
      }
      long start = System.nanoTime();
      fingerprint = WeightsFingerprint.of(model);
      LOG.info(
          "weights of teacher '{}' fingerprinted in {} ms: {}",
          name,
          (System.nanoTime() - start) / 1_000_000,
          fingerprint);
    }
    if (!taken.add(name)) {
      throw new IllegalArgumentException("two teachers are named '" + name + "'");
    }
    return new TeacherIdentity(name, fingerprint, model.card().depth());
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** What every sample of the cache will hold: the teachers and the entries. */
  public CacheRecipe cacheRecipe() {
    return cacheRecipe;
  }

  /** The identity (name, weights fingerprint, depth) of each cached capability's teacher. */
  public Map<Capability, TeacherIdentity> identities() {
    return identities;
  }

  /** The panel record the index will hold. */
  public CachedPanel panel() {
    return panel;
  }

  /**
   * Computes and writes the targets of every sample of {@code dataset}, then the index, into a
   * sibling folder {@code <directory>}{@value #PARTIAL_SUFFIX}, which is renamed to {@code
   * directory} once finished: a run that dies leaves no folder under the cache's name, and the next
   * run removes the leftover (with a warning) and starts over.
   *
   * @param directory the cache folder: absent or empty
   * @return the index written
   * @throws IllegalStateException naming the sample and its record when a sample fails (no cache
   *     folder is then made)
   * @throws TeacherCacheException when the folder is not empty or writing fails
   */
  public CacheIndex precompute(DrivingDataset dataset, Path directory) {
    Path target = directory.toAbsolutePath().normalize();
    Path partial = target.resolveSibling(target.getFileName() + PARTIAL_SUFFIX);
    try {
      if (Files.isDirectory(target)) {
        try (java.util.stream.Stream<Path> entries = Files.list(target)) {
          if (entries.findAny().isPresent()) {
            throw new TeacherCacheException(
                target,
                null,
                "a new cache needs an empty folder (this one holds files; a finished cache is"
                    + " never overwritten)",
                null);
          }
        }
      }
      if (Files.exists(partial)) {
        LOG.warn("removing {}, left by a precompute that did not finish", partial);
        DurableFiles.deleteRecursively(partial);
      }
    } catch (IOException e) {
      throw new TeacherCacheException(target, null, "cannot prepare the cache folder: " + e, e);
    }
    CacheIndex index = precomputeInto(dataset, partial);
    try {
      Files.deleteIfExists(target); // an empty folder given by the caller
      DurableFiles.moveAtomically(partial, target, false);
    } catch (IOException e) {
      throw new TeacherCacheException(
          target, null, "the finished cache in " + partial + " could not be renamed: " + e, e);
    }
    LOG.info("teacher-target cache {} finished: {} samples", target, index.samples());
    return index;
  }

  /** The suffix of the folder a cache is written into until it is finished. */
  public static final String PARTIAL_SUFFIX = ".partial";

  private CacheIndex precomputeInto(DrivingDataset dataset, Path directory) {
    String dataSha = datasetFingerprint(dataset);
    for (Plan p : plans) {
      LOG.info(
          "teacher '{}' ({} layers, weights {}) plays {}: layers {} per sample",
          p.identity().name(),
          p.identity().depth(),
          p.identity().weightsFingerprint(),
          p.roles(),
          p.layers());
    }
    try (TeacherTargetCacheWriter writer =
            TeacherTargetCacheWriter.builder(directory, cacheRecipe, dataSha)
                .optPanel(panel)
                .optSamplesPerChunk(samplesPerChunk)
                .optMaxChunkBytes(maxChunkBytes)
                .create();
        NDManager base = NDManager.newBaseManager(device)) {
      writeSamples(writer, base, dataset, 0, dataset.size(), index -> {});
      return writer.finish();
    }
  }

  /**
   * Computes the targets of samples {@code [from, to)} into chunk files of {@code directory}
   * (absent or empty), numbered from {@code firstChunk}, without an index: one shard of a cache
   * that several workers fill. {@link TeacherTargetCacheWriter#writeIndex} lists the shards' chunks
   * once every shard is done; the chunks hold exactly the bytes {@link #precompute} would write for
   * these samples when the shard starts at a chunk boundary ({@code from} a multiple of the samples
   * per chunk, {@code firstChunk = from / samplesPerChunk}) and no chunk reaches the byte limit.
   *
   * @param afterSample called with each sample's index once it is written (progress, tests)
   * @return the chunks written, in order
   */
  public List<CacheIndex.Chunk> precomputeShard(
      DrivingDataset dataset,
      int from,
      int to,
      Path directory,
      int firstChunk,
      java.util.function.IntConsumer afterSample) {
    if (from < 0 || to > dataset.size() || from >= to) {
      throw new IllegalArgumentException(
          "a shard of samples [" + from + ", " + to + ") of a dataset of " + dataset.size());
    }
    try (TeacherTargetCacheWriter writer =
            TeacherTargetCacheWriter.builder(directory, cacheRecipe, datasetFingerprint(dataset))
                .optPanel(panel)
                .optSamplesPerChunk(samplesPerChunk)
                .optMaxChunkBytes(maxChunkBytes)
                .optFirstChunk(firstChunk)
                .create();
        NDManager base = NDManager.newBaseManager(device)) {
      writeSamples(writer, base, dataset, from, to, afterSample);
      return writer.finishShard();
    }
  }

  /** The dataset fingerprint the index records: the given one, else the data file's SHA-256. */
  public String datasetFingerprint(DrivingDataset dataset) {
    return datasetFingerprint != null
        ? datasetFingerprint
        : DataFingerprint.of(List.of(dataset.sourceFile()));
  }

  /** Samples per chunk file. */
  public int samplesPerChunk() {
    return samplesPerChunk;
  }

  private void writeSamples(
      TeacherTargetCacheWriter writer,
      NDManager base,
      DrivingDataset dataset,
      int from,
      int to,
      java.util.function.IntConsumer afterSample) {
    int total = to - from;
    long start = System.nanoTime();
    long lastLog = start;
    long bytes = 0;
    for (int i = from; i < to; i++) {
      SampleTargets targets = compute(base, i, dataset.get(i));
      writer.append(targets);
      afterSample.accept(i);
      for (CachedTarget t : targets.targets()) {
        bytes += 4L * t.values().length;
      }
      long now = System.nanoTime();
      PrecomputeProgress progress =
          new PrecomputeProgress(i - from + 1, total, Duration.ofNanos(now - start), bytes);
      if (progressListener != null) {
        progressListener.accept(progress);
      }
      if (i + 1 == to || now - lastLog >= progressInterval.toNanos()) {
        LOG.info("{}", progress.line());
        lastLog = now;
      }
    }
  }

  /** The targets of one sample, computed in a sub-manager closed before returning. */
  private SampleTargets compute(NDManager base, int index, DrivingSample sample) {
    try (NDManager m = base.newSubManager()) {
      VlmBatch batch = encoder.encodeSamples(m, List.of(sample), BatchEncoder.PromptMode.TRAINING);
      SampleTargets targets = SampleTargets.of(index, batch.layout(), 0);
      for (Plan p : plans) {
        ModelOutput out = p.model().forward(batch, ForwardRequest.attentionOf(p.layers()), false);
        out.logits().close(); // the teacher's CE is never used (method.md 1.1)
        LayerMaps maps = out.attention();
        for (Map.Entry<Integer, List<CacheRecipe.Entry>> e : p.entriesByLayer().entrySet()) {
          try (NDArray map = maps.headAveraged(e.getKey())) {
            for (CacheRecipe.Entry entry : e.getValue()) {
              targets.cut(map, entry.key(), entry.kind());
            }
          }
        }
      }
      return targets;
    } catch (TeacherCacheException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "sample "
              + index
              + " (record "
              + sample.recordIndex()
              + " of "
              + sample.sourceFile()
              + "): teacher targets failed: "
              + e.getMessage(),
          e);
    }
  }

  /** Configures a {@link TeacherTargetPrecomputer}. */
  public static final class Builder {
    private TeacherPanel teachers;
    private DistillationRecipe recipe = DistillationRecipe.paper();
    private BatchEncoder encoder;
    private ModelCard student;
    private Set<Capability> only;
    private final Map<VisionLanguageModel, String[]> identities = new IdentityHashMap<>();
    private String datasetFingerprint;
    private int samplesPerChunk = 64;
    private long maxChunkBytes = 1L << 30;
    private Duration progressInterval = Duration.ofSeconds(30);
    private Consumer<PrecomputeProgress> progressListener;

    private Builder() {}

    /** The frozen teachers and their roles (required). */
    public Builder setTeachers(TeacherPanel teachers) {
      this.teachers = Objects.requireNonNull(teachers);
      return this;
    }

    /** The recipe whose teacher signals are cached (default: the paper's). */
    public Builder optRecipe(DistillationRecipe recipe) {
      this.recipe = Objects.requireNonNull(recipe);
      return this;
    }

    /** The student's encoder, as the trainer will use it (required). */
    public Builder setEncoder(BatchEncoder encoder) {
      this.encoder = Objects.requireNonNull(encoder);
      return this;
    }

    /** The student's card: its depth resolves the recipe's layers (required). */
    public Builder setStudent(ModelCard student) {
      this.student = Objects.requireNonNull(student);
      return this;
    }

    /**
     * Caches only these capabilities (default: every capability of the recipe the panel plays), for
     * example perception and planning while a large reasoning teacher stays live.
     */
    public Builder optCapabilities(Set<Capability> capabilities) {
      this.only = EnumSet.copyOf(capabilities);
      return this;
    }

    /**
     * Names a teacher and gives its weights fingerprint instead of {@code card().name()} and {@link
     * WeightsFingerprint#of} (for a model type whose weights cannot be listed, or to reuse the
     * SHA-256 of its weight files).
     */
    public Builder optTeacherIdentity(
        VisionLanguageModel teacher, String name, String weightsFingerprint) {
      if (name == null
          || name.isBlank()
          || weightsFingerprint == null
          || weightsFingerprint.isBlank()) {
        throw new IllegalArgumentException("a teacher identity needs a name and a fingerprint");
      }
      identities.put(Objects.requireNonNull(teacher), new String[] {name, weightsFingerprint});
      return this;
    }

    /** The dataset fingerprint (default: {@code DataFingerprint.of} the dataset's file). */
    public Builder optDatasetFingerprint(String fingerprint) {
      this.datasetFingerprint = Objects.requireNonNull(fingerprint);
      return this;
    }

    /** Samples per chunk file (64). */
    public Builder optSamplesPerChunk(int n) {
      this.samplesPerChunk = TeacherTargetCacheWriter.checkSamplesPerChunk(n);
      return this;
    }

    /** The largest chunk file in bytes (1 GiB). */
    public Builder optMaxChunkBytes(long bytes) {
      this.maxChunkBytes = TeacherTargetCacheWriter.checkMaxChunkBytes(bytes);
      return this;
    }

    /** How often a progress line is logged at INFO (30 s; the last sample always logs). */
    public Builder optProgressInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("the progress interval must be >= 0: " + interval);
      }
      this.progressInterval = interval;
      return this;
    }

    /** Called after every sample with the run's progress (for a progress bar). */
    public Builder optProgressListener(Consumer<PrecomputeProgress> listener) {
      this.progressListener = Objects.requireNonNull(listener);
      return this;
    }

    /** Checks the recipe against the teachers and fingerprints each distinct teacher once. */
    public TeacherTargetPrecomputer build() {
      if (teachers == null || encoder == null || student == null) {
        throw new IllegalArgumentException(
            "a TeacherTargetPrecomputer needs teachers, the student's encoder and card");
      }
      return new TeacherTargetPrecomputer(this);
    }
  }
}
