package dev.drivekd.examples.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.EpochReport;
import dev.drivekd.eval.deploy.ResidentMemory;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/**
 * The Drive-KD step at the shapes users train: {@code student-base} distilled from three {@code
 * teacher-base} teachers (one per capability, targets read from a precomputed cache), on samples of
 * exactly {@code L} tokens with several 224 px camera images. Measures, per length, the time per
 * sample of a cross-entropy-only step and of the AGP step with the trainer's phase split; the time
 * the three attention losses take (their forward and their backward to the student's maps, isolated
 * on leaf copies of the maps); and the peak memory of each step.
 */
final class LongStepBenchmark implements AutoCloseable {

  /**
   * The student at {@code length}: {@code student-base} from L = 512 on; below, where its 64 tokens
   * per image and the prompt leave too little text, {@code student-tiny} (16 tokens per image).
   */
  static String studentFor(int length) {
    return length >= 512 ? "student-base" : "student-tiny";
  }

  /**
   * The teacher of {@link #studentFor}'s student: {@code teacher-base} or {@code teacher-small}.
   */
  static String teacherFor(int length) {
    return length >= 512 ? "teacher-base" : "teacher-small";
  }

  static final long STUDENT_SEED = 1;
  static final long[] TEACHER_SEEDS = {2, 3, 4};
  static final long TRAINER_SEED = 5;

  /** Camera images per sample: the paper's six at L >= 1,024, fewer where text would not fit. */
  static int imagesFor(int length) {
    return Math.max(1, Math.min(6, length / 170));
  }

  private final Device device;
  private final int length;
  private final String studentPreset;
  private final String teacherPreset;
  private final Consumer<String> progress;
  private final WordTokenizer tokenizer;
  private final List<String> words;
  private final DrivingDataset dataset;
  private final DistillationRecipe recipe = DistillationRecipe.paper();
  private final List<InternVlModel> models = new ArrayList<>();

  /** Writes {@code samples} samples of exactly {@code length} tokens into {@code dataDir}. */
  LongStepBenchmark(
      Device device, Path dataDir, int length, int samples, Consumer<String> progress) {
    this.device = device;
    this.length = length;
    this.studentPreset = studentFor(length);
    this.teacherPreset = teacherFor(length);
    this.progress = progress;
    // every word one token, ids within the student's vocabulary
    int vocabulary = InternVlConfig.preset(studentPreset).language().vocabSize();
    List<String> words = WORDS.subList(0, Math.min(WORDS.size(), vocabulary - 64));
    this.tokenizer = WordTokenizer.builder().addText(String.join(" ", words) + "?").build();
    this.words = words;
    this.dataset = writeDataset(dataDir, samples);
  }

  DrivingDataset dataset() {
    return dataset;
  }

  String studentPreset() {
    return studentPreset;
  }

  String teacherPreset() {
    return teacherPreset;
  }

  /** A fresh native model of {@code preset}, closed with this benchmark. */
  InternVlModel model(String preset, long seed) {
    InternVlConfig config = InternVlConfig.preset(preset).withTokenizer(tokenizer.identity());
    InternVlModel m = InternVlModel.create(config, device, seed);
    models.add(m);
    return m;
  }

  BatchEncoder encoder(ModelCard card) {
    return BenchSupport.encoder(tokenizer, card);
  }

  /**
   * Runs three {@code teacher-base} teachers (closed afterwards) over the dataset into {@code
   * cacheDir}; returns the seconds it took.
   */
  double buildCache(ModelCard student, Path cacheDir) {
    Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
    List<InternVlModel> teachers = new ArrayList<>();
    Capability[] capabilities = Capability.values();
    for (int i = 0; i < capabilities.length; i++) {
      InternVlConfig config =
          InternVlConfig.preset(teacherPreset).withTokenizer(tokenizer.identity());
      InternVlModel teacher = InternVlModel.create(config, device, TEACHER_SEEDS[i]);
      teachers.add(teacher);
      roles.put(capabilities[i], teacher);
    }
    try {
      long t0 = System.nanoTime();
      TeacherTargetPrecomputer.builder()
          .setTeachers(TeacherPanel.of(roles))
          .setStudent(student)
          .setEncoder(encoder(student))
          .build()
          .precompute(dataset, cacheDir);
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      teachers.forEach(InternVlModel::close);
    }
  }

  CachedTeacherTargets openCache(ModelCard student, Path cacheDir) {
    return CachedTeacherTargets.builder(cacheDir).setStudent(student).setDataset(dataset).open();
  }

  /** A trainer over the dataset in one optimizer step per epoch (accumulation = its size). */
  private DistillationTrainer.Builder trainer(
      InternVlModel student, int epochs, GradientProjection projection) {
    return DistillationTrainer.builder()
        .setStudent(student)
        .setEncoder(encoder(student.card()))
        .optAccumulation(dataset.size())
        .optEpochs(epochs)
        .optSeed(TRAINER_SEED)
        .optProjection(projection);
  }

  /** What one epoch over the dataset cost. */
  record Epoch(double seconds, Map<String, Double> phaseSeconds, double peakMb) {}

  /**
   * One epoch (one optimizer step: accumulation = the dataset's size) of a fresh trainer on {@code
   * student}: cross-entropy only when {@code teachers} is null, else the three cached teachers with
   * AGP. The peak is the rise of resident memory over the resident size before the trainer was
   * built (its buffers, AdamW's state and the steps), NaN where {@code /proc} cannot tell.
   */
  Epoch epoch(InternVlModel student, CachedTeacherTargets teachers) {
    boolean memory = ResidentMemory.available();
    long base = memory ? ResidentMemory.residentBytes() : 0;
    if (memory) {
      ResidentMemory.resetPeak();
    }
    DistillationTrainer.Builder b = trainer(student, 1, GradientProjection.agp());
    if (teachers != null) {
      b.optTeachers(new TrainerBenchmark.Unclosed(teachers));
    }
    try (DistillationTrainer trainer = b.build()) {
      long t0 = System.nanoTime();
      TrainingSummary summary = trainer.fit(dataset);
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (summary.skippedUpdates() > 0) {
        progress.accept("L=" + length + ": " + summary.skippedUpdates() + " updates skipped");
      }
      double peak =
          memory ? Math.max(0, ResidentMemory.peakBytes() - base) / (1024.0 * 1024.0) : Double.NaN;
      return new Epoch(seconds, summary.phaseSeconds(), peak);
    }
  }

  /**
   * Seconds of one epoch of micro-steps that reuse AGP's loss multipliers (one backward each): a
   * fresh trainer runs two epochs with a refresh interval longer than the run, so the first epoch
   * combines on the first micro-step of each kind (sample capability) and the second reuses on
   * every micro-step; the second epoch's wall time is returned.
   */
  double reusedEpochSeconds(InternVlModel student, CachedTeacherTargets teachers) {
    long[] epochEnds = new long[2];
    int[] epochs = {0};
    DistillationTrainer.Builder b =
        trainer(student, 2, GradientProjection.agp().optRefreshEvery(4 * dataset.size()))
            .optTeachers(new TrainerBenchmark.Unclosed(teachers))
            .addListener(
                new DistillationListener() {
                  @Override
                  public void onEpochEnd(EpochReport report) {
                    epochEnds[Math.min(1, epochs[0]++)] = System.nanoTime();
                  }
                });
    try (DistillationTrainer trainer = b.build()) {
      TrainingSummary summary = trainer.fit(dataset);
      if (summary.reuse().reusedMicroSteps() < dataset.size()) {
        throw new IllegalStateException(
            "expected the second epoch to reuse on every micro-step: " + summary.reuse());
      }
    }
    return (epochEnds[1] - epochEnds[0]) / 1e9;
  }

  /**
   * Milliseconds per sample of the three attention losses alone, median of {@code repeats}: the
   * student's maps of one forward (no graph) are copied into leaves that require a gradient; each
   * timed round computes the perception, reasoning and planning losses from them and the cached
   * targets (region masks included) and runs their backward to the leaves. In the AGP step every
   * loss term runs forward once and backward once (in its task's backward), as here.
   */
  double attentionLossMs(InternVlModel student, CachedTeacherTargets teachers, int repeats) {
    Engine engine = Engine.getEngine("PyTorch");
    int studentDepth = student.card().depth();
    double[] perRound = new double[repeats];
    for (int i = 0; i < dataset.size(); i++) {
      DrivingSample sample = dataset.get(i);
      try (NDManager m = student.manager().newSubManager()) {
        VlmBatch batch =
            encoder(student.card())
                .encodeSamples(m, List.of(sample), BatchEncoder.PromptMode.TRAINING);
        Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
        TreeSet<Integer> studentLayers = new TreeSet<>();
        for (Capability c : Capability.values()) {
          int teacherDepth = teachers.card(c).depth();
          teacherLayers.put(c, recipe.teacherLayers(c, studentDepth, teacherDepth));
          studentLayers.addAll(recipe.studentLayers(c, studentDepth, teacherDepth));
        }
        Map<Capability, LayerMaps> targets = teachers.targets(i, sample, batch, teacherLayers);
        ModelOutput out =
            student.forward(
                batch, ForwardRequest.attentionOf(studentLayers).withoutLogits(), false);
        Map<Integer, NDArray> leaves = new HashMap<>();
        for (int layer : studentLayers) {
          NDArray leaf = out.attention().headAveraged(layer).duplicate();
          leaf.setRequiresGradient(true);
          leaves.put(layer, leaf);
        }
        LayerMaps studentMaps = LayerMaps.of(studentDepth, leaves::get);
        for (int r = -1; r < repeats; r++) {
          try (NDScope round = new NDScope()) {
            round.suppressNotUsedWarning();
            long t0 = System.nanoTime();
            try (GradientCollector collector = engine.newGradientCollector()) {
              NDArray total = null;
              for (Capability c : Capability.values()) {
                NDArray loss =
                    recipe.loss(c).perSample(studentMaps, targets.get(c), batch.layout()).sum();
                total = total == null ? loss : total.add(loss);
              }
              collector.backward(total);
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            if (r >= 0) {
              perRound[r] += ms;
            }
            for (NDArray leaf : leaves.values()) {
              try (NDArray gradient = leaf.getGradient()) {
                gradient.subi(gradient);
              }
            }
          }
        }
      }
    }
    Arrays.sort(perRound);
    return perRound[repeats / 2] / dataset.size();
  }

  @Override
  public void close() {
    models.forEach(InternVlModel::close);
    models.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // data of an exact length

  private DrivingDataset writeDataset(Path dir, int samples) {
    int images = imagesFor(length);
    // words are tokens and so are the spaces between them: n words are 2n - 1 tokens
    int answerWords = Math.max(1, (length / 4 + 1) / 2);
    int one = encodedLength(write(dir, samples, images, 1, answerWords, ""));
    int step = encodedLength(write(dir, samples, images, 2, answerWords, "")) - one;
    int need = length - one;
    if (need < 0 || step < 1) {
      throw new IllegalArgumentException(
          "L = " + length + " is too short for " + images + " images and the answer");
    }
    // an odd remainder is made up by a question mark, one token of its own
    DrivingDataset data =
        write(dir, samples, images, 1 + need / step, answerWords, need % step == 0 ? "" : "?");
    int got = encodedLength(data);
    if (got != length) {
      throw new IllegalStateException("samples encode to " + got + " tokens, not " + length);
    }
    return data;
  }

  private int encodedLength(DrivingDataset data) {
    InternVlConfig config = InternVlConfig.preset(studentPreset);
    BatchEncoder encoder =
        BatchEncoder.builder()
            .setTokenizer(tokenizer)
            .setImagePipeline(ImagePipeline.imageNet(config.vision().imageSize()))
            .setTokensPerImage(config.tokensPerImage())
            .build();
    int max = 0;
    try (NDManager m = NDManager.newBaseManager(device)) {
      for (DrivingSample s : data.samples()) {
        VlmBatch batch = encoder.encodeSamples(m, List.of(s), BatchEncoder.PromptMode.TRAINING);
        max = Math.max(max, batch.length());
      }
    }
    return max;
  }

  /**
   * {@code samples} records (capabilities in turn), each with {@code images} noise images of the
   * student's size and a question and an answer of the given numbers of words.
   */
  private DrivingDataset write(
      Path dir, int samples, int images, int questionWords, int answerWords, String suffix) {
    int side = InternVlConfig.preset(studentPreset).vision().imageSize();
    try {
      Files.createDirectories(dir);
      ObjectMapper json = new ObjectMapper();
      ArrayNode root = json.createArrayNode();
      Random random = new Random(7);
      Capability[] capabilities = Capability.values();
      for (int i = 0; i < samples; i++) {
        ObjectNode item = root.addObject();
        ArrayNode paths = item.putArray("images");
        StringBuilder content = new StringBuilder();
        for (int k = 0; k < images; k++) {
          String name = "s" + i + "_cam" + k + ".png";
          Path file = dir.resolve(name);
          if (!Files.exists(file)) {
            ImageIO.write(
                SyntheticDrivingData.noise(side, new Random(i * 31L + k)), "png", file.toFile());
          }
          paths.add(name);
          content.append("<image>\n");
        }
        content.append(words(words, random, questionWords)).append(suffix);
        ArrayNode messages = item.putArray("messages");
        messages.addObject().put("role", "user").put("content", content.toString());
        messages
            .addObject()
            .put("role", "assistant")
            .put("content", words(words, random, answerWords));
        item.put("question_type", capabilities[i % capabilities.length].key());
      }
      Path file = dir.resolve("data.json");
      json.writeValue(file.toFile(), root);
      return DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the benchmark dataset into " + dir, e);
    }
  }

  private static String words(List<String> vocabulary, Random random, int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        b.append(' ');
      }
      b.append(vocabulary.get(random.nextInt(vocabulary.size())));
    }
    return b.toString();
  }

  /** 2,000 pronounceable lowercase words of two or three syllables, each one token. */
  private static final List<String> WORDS = syllableWords(2000);

  private static List<String> syllableWords(int n) {
    String[] onsets = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"};
    String[] vowels = {"a", "e", "i", "o", "u"};
    List<String> syllables = new ArrayList<>();
    for (String o : onsets) {
      for (String v : vowels) {
        syllables.add(o + v);
      }
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; out.size() < n; i++) {
      int a = i % syllables.size();
      int b = (i / syllables.size()) % syllables.size();
      int c = i / (syllables.size() * syllables.size());
      out.add(syllables.get(a) + syllables.get(b) + (c == 0 ? "" : syllables.get(c % 70)));
    }
    return List.copyOf(out);
  }

  /** Figures of one length, for {@link TrainerBench}. */
  static Map<String, Object> describe(int length, int samples) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("length", length);
    m.put("student", studentFor(length));
    m.put("teachers", "3 x " + teacherFor(length) + " (seeds 2, 3, 4), cached targets");
    m.put("images_per_sample", imagesFor(length));
    m.put("answer_tokens", 2 * Math.max(1, (length / 4 + 1) / 2) - 1);
    m.put("samples", samples);
    return m;
  }
}
