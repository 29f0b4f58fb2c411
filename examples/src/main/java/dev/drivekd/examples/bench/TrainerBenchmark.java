package dev.drivekd.examples.bench;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.eval.deploy.ResidentMemory;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.function.Consumer;

/**
 * Times whole training epochs of the tiny native student ({@code student-tiny}) on a small
 * synthetic driving dataset, in five configurations: cross-entropy only, three teachers ({@code
 * teacher-small}, one distinct model per capability) with the task gradients summed ({@link
 * GradientProjection#none()}), and with AGP, each multi-teacher configuration with live teachers
 * and with targets read from a precomputed cache. Also measures the peak resident memory one epoch
 * adds over a process that holds only the student.
 */
final class TrainerBenchmark implements AutoCloseable {

  /** One training configuration. */
  enum Config {
    CE("ce", "CE only", false, false, false, false),
    SUM_LIVE("sum_live", "3 teachers, sum, live", true, false, false, false),
    AGP_LIVE("agp_live", "3 teachers, AGP, live", true, true, false, false),
    SUM_CACHED("sum_cached", "3 teachers, sum, cached", true, false, true, false),
    AGP_CACHED("agp_cached", "3 teachers, AGP, cached", true, true, true, false),
    SUM_ONCE_LIVE("sum_once_live", "3 t., sum once, live *", true, false, false, true),
    SUM_ONCE_CACHED("sum_once_cached", "3 t., sum once, cached *", true, false, true, true),
    AGP_AMORTISED_CACHED("agp_amortised_cached", "3 t., AGP every 8, cached", 8);

    final String key;
    final String label;
    final boolean teachers;
    final boolean agp;
    final boolean cached;

    /** A benchmark-only loop ({@link SumOnceTrainer}): one backward of the summed losses. */
    final boolean once;

    /** AGP's full combine every this many micro-steps of a kind (amortised AGP when > 1). */
    final int refreshEvery;

    Config(String key, String label, boolean teachers, boolean agp, boolean cached, boolean once) {
      this(key, label, teachers, agp, cached, once, 1);
    }

    /** Amortised AGP with cached teachers, a full combine every {@code refreshEvery}. */
    Config(String key, String label, int refreshEvery) {
      this(key, label, true, true, true, false, refreshEvery);
    }

    Config(
        String key,
        String label,
        boolean teachers,
        boolean agp,
        boolean cached,
        boolean once,
        int refreshEvery) {
      this.key = key;
      this.label = label;
      this.teachers = teachers;
      this.agp = agp;
      this.cached = cached;
      this.once = once;
      this.refreshEvery = refreshEvery;
    }

    static Config of(String key) {
      for (Config c : values()) {
        if (c.key.equals(key)) {
          return c;
        }
      }
      throw new IllegalArgumentException("no configuration " + key);
    }
  }

  static final String STUDENT = "student-tiny";
  static final String TEACHER = "teacher-small";
  static final long STUDENT_SEED = 1;
  static final long[] TEACHER_SEEDS = {2, 3, 4};
  static final long TRAINER_SEED = 5;

  private static final String[][] TEMPLATES = {
    {"perception", "What is in front of the ego car?", "A white truck in the same lane."},
    {"perception", "Is the traffic light red?", "Yes, the light ahead is red."},
    {"perception", "How many pedestrians are visible?", "Two pedestrians on the right sidewalk."},
    {"perception", "What is the speed limit sign?", "The sign shows fifty."},
    {"reasoning", "Why does the car slow down?", "Because a pedestrian crosses the road."},
    {"reasoning", "Is the lane change safe?", "No, a car is close behind on the left."},
    {"reasoning", "Why is the bus important?", "It may stop and block the right lane."},
    {"reasoning", "What could the cyclist do?", "The cyclist may merge into our lane."},
    {"planning", "What should the ego car do next?", "Keep the lane and slow down."},
    {"planning", "Can the ego car turn left now?", "No, wait for the gap in traffic."},
    {"planning", "Should the ego car stop?", "Yes, stop before the crosswalk."},
    {"planning", "What is the safe action here?", "Follow the truck at a safe distance."},
  };

  private final Device device;
  private final int accumulation;
  private final Consumer<String> progress;
  final DrivingDataset dataset;
  final WordTokenizer tokenizer;
  private final List<InternVlModel> models = new ArrayList<>();

  /** Reads the dataset of {@code dataDir} (written by {@link #writeDataset}). */
  TrainerBenchmark(Device device, Path dataDir, int accumulation, Consumer<String> progress) {
    this.device = device;
    this.accumulation = accumulation;
    this.progress = progress;
    this.dataset =
        DrivingDatasetReader.builder().optDataRoot(dataDir).build().read(dataFile(dataDir));
    this.tokenizer = WordTokenizer.builder().addDataset(dataset).build();
  }

  static Path dataFile(Path dataDir) {
    return dataDir.resolve("data.json");
  }

  /**
   * Writes {@code samples} driving samples (a question, an answer, one 32 x 32 PNG camera image
   * each, capabilities in turn) into {@code dir}.
   */
  static void writeDataset(Path dir, int samples) {
    List<SyntheticDrivingData.Record> records = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      // perception, reasoning, planning in turn, so that every capability is present
      String[] t = TEMPLATES[(i % 3) * 4 + (i / 3) % 4];
      records.add(new SyntheticDrivingData.Record(t[0], t[1], t[2]));
    }
    SyntheticDrivingData.write(dir, records, 32, 7);
  }

  /** A fresh native model of {@code preset}, closed with this benchmark. */
  InternVlModel model(String preset, long seed) {
    InternVlConfig config = InternVlConfig.preset(preset).withTokenizer(tokenizer.identity());
    InternVlModel m = InternVlModel.create(config, device, seed);
    models.add(m);
    return m;
  }

  /** Three distinct teachers, one per capability (different seeds). */
  TeacherPanel teachers() {
    Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
    Capability[] capabilities = Capability.values();
    for (int i = 0; i < capabilities.length; i++) {
      roles.put(capabilities[i], model(TEACHER, TEACHER_SEEDS[i]));
    }
    return TeacherPanel.of(roles);
  }

  BatchEncoder encoder(ModelCard card) {
    return BenchSupport.encoder(tokenizer, card);
  }

  /** Precomputes the panel's targets into {@code cacheDir}; returns the seconds it took. */
  double buildCache(TeacherPanel panel, ModelCard student, Path cacheDir) {
    long t0 = System.nanoTime();
    TeacherTargetPrecomputer.builder()
        .setTeachers(panel)
        .setStudent(student)
        .setEncoder(encoder(student))
        .build()
        .precompute(dataset, cacheDir);
    return (System.nanoTime() - t0) / 1e9;
  }

  CachedTeacherTargets openCache(ModelCard student, Path cacheDir) {
    return CachedTeacherTargets.builder(cacheDir).setStudent(student).setDataset(dataset).open();
  }

  /** Parameter bytes of the given models, in MiB. */
  static double weightsMb(List<? extends InternVlModel> models) {
    long bytes = 0;
    for (InternVlModel m : models) {
      for (Parameter p : m.namedParameters().values()) {
        bytes += p.getArray().size() * p.getArray().getDataType().getNumOfBytes();
      }
    }
    return bytes / (1024.0 * 1024.0);
  }

  /**
   * Trains one epoch over the whole dataset with a fresh trainer on {@code student}; returns the
   * seconds {@code fit} took (trainer construction excluded).
   */
  double epoch(InternVlModel student, Config config, TeacherTargets teachers) {
    if (config.once) {
      return new SumOnceTrainer(student, encoder(student.card()), teachers, accumulation)
          .epoch(dataset);
    }
    DistillationTrainer.Builder b =
        DistillationTrainer.builder()
            .setStudent(student)
            .setEncoder(encoder(student.card()))
            .optAccumulation(accumulation)
            .optEpochs(1)
            .optSeed(TRAINER_SEED)
            .optProjection(
                config.agp
                    ? GradientProjection.agp().optRefreshEvery(config.refreshEvery)
                    : GradientProjection.none());
    if (config.teachers) {
      b.optTeachers(new Unclosed(teachers));
    }
    try (DistillationTrainer trainer = b.build()) {
      long t0 = System.nanoTime();
      TrainingSummary summary = trainer.fit(dataset);
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (summary.skippedUpdates() > 0) {
        progress.accept(config.key + ": " + summary.skippedUpdates() + " updates skipped");
      }
      return seconds;
    }
  }

  /**
   * Median samples per second of each configuration: {@code warmups} epochs each, then {@code
   * repeats} rounds that each train one epoch of every configuration in turn, so that the machine's
   * noise hits them alike. Every configuration trains its own student (same seed); the teachers and
   * the cache are shared.
   */
  double[] samplesPerSecond(
      List<Config> configs, int warmups, int repeats, TeacherPanel live, TeacherTargets cached) {
    List<InternVlModel> students = new ArrayList<>();
    for (int i = 0; i < configs.size(); i++) {
      students.add(model(STUDENT, STUDENT_SEED));
    }
    double[][] seconds = new double[configs.size()][repeats];
    for (int r = -warmups; r < repeats; r++) {
      progress.accept(r < 0 ? "trainer: warm-up epochs" : "trainer: repeat " + (r + 1));
      for (int i = 0; i < configs.size(); i++) {
        Config c = configs.get(i);
        double s = epoch(students.get(i), c, c.cached ? cached : live);
        if (r >= 0) {
          seconds[i][r] = s;
        }
      }
    }
    double[] out = new double[configs.size()];
    for (int i = 0; i < configs.size(); i++) {
      Arrays.sort(seconds[i]);
      out[i] = dataset.size() / seconds[i][repeats / 2];
    }
    return out;
  }

  /**
   * Peak resident memory one epoch of {@code config} adds, in MiB, over this process after the
   * student is created: the teachers' creation (live) or the cache's opening (cached), the trainer
   * and the epoch. Exact only in a process with the allocator setting of {@link MeasuringProcess}.
   */
  double peakMb(Config config, Path cacheDir) {
    if (!ResidentMemory.available()) {
      return Double.NaN;
    }
    InternVlModel student = model(STUDENT, STUDENT_SEED);
    System.gc();
    long base = ResidentMemory.residentBytes();
    ResidentMemory.resetPeak();
    if (!config.teachers) {
      epoch(student, config, null);
    } else if (config.cached) {
      try (CachedTeacherTargets cached = openCache(student.card(), cacheDir)) {
        epoch(student, config, cached);
      }
    } else {
      TeacherPanel panel = teachers();
      epoch(student, config, panel);
    }
    long peak = ResidentMemory.peakBytes();
    return Math.max(0, peak - base) / (1024.0 * 1024.0);
  }

  @Override
  public void close() {
    for (InternVlModel m : models) {
      m.close();
    }
    models.clear();
  }

  /** The trainer closes its teachers; these are shared across trainers and closed here. */
  record Unclosed(TeacherTargets delegate) implements TeacherTargets {
    @Override
    public Set<Capability> capabilities() {
      return delegate.capabilities();
    }

    @Override
    public ModelCard card(Capability capability) {
      return delegate.card(capability);
    }

    @Override
    public Map<Capability, LayerMaps> targets(
        int sampleIndex,
        DrivingSample sample,
        VlmBatch batch,
        Map<Capability, SortedSet<Integer>> layers) {
      return delegate.targets(sampleIndex, sample, batch, layers);
    }

    @Override
    public void close() {}
  }
}
