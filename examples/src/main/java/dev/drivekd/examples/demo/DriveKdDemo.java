package dev.drivekd.examples.demo;

import ai.djl.Device;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.listener.MetricsFileListener;
import dev.drivekd.core.train.listener.ProgressBarListener;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.DynamicWeightConfig;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.eval.AgreementReport;
import dev.drivekd.eval.GreedyAnswers;
import dev.drivekd.eval.McqAccuracy;
import dev.drivekd.eval.TeacherAgreement;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main job: Drive-KD end to end on a small driving dataset, with models built here.
 *
 * <ol>
 *   <li>the data: the dataset is read, stand-in frames are drawn for images that are not there
 *       ({@link StandInFrames}), and a word tokenizer is built from its text;
 *   <li>three specialist teachers: one {@code teacher-small} per capability, fine-tuned with
 *       cross-entropy on that capability's samples (the paper distils from fine-tuned teachers);
 *   <li>two students from the same {@code student-tiny} initialisation and schedule: one trained on
 *       cross-entropy alone, one with Drive-KD (the paper's recipe, mixing matrix, dynamic loss
 *       weights and AGP, teachers live);
 *   <li>both students scored on the dataset: answer cross-entropy and the distance of their
 *       attention signals to their teachers' ({@link TeacherAgreement}); a greedy answer; a plot of
 *       the training losses.
 * </ol>
 *
 * Everything lands in the run folder: the teachers, the students' checkpoints and metrics, the
 * plot. A run folder whose teachers were trained before reuses them.
 */
public final class DriveKdDemo {

  private static final Logger LOG = LoggerFactory.getLogger(DriveKdDemo.class);

  /** Tokens of a greedy answer at most. */
  private static final int ANSWER_TOKENS = 64;

  /** The distillation task of each capability, in capability order. */
  private static final Map<Capability, String> TASKS = tasks();

  private static Map<Capability, String> tasks() {
    Map<Capability, String> tasks = new EnumMap<>(Capability.class);
    for (Capability c : Capability.values()) {
      tasks.put(c, TaskKeys.of(c));
    }
    return Collections.unmodifiableMap(tasks);
  }

  /**
   * What the demo runs.
   *
   * @param dataset the dataset file (the reference format)
   * @param standInFrames draw a stand-in frame for every image the dataset names that is not there
   *     (the embedded reference data's images are not distributed); otherwise a missing image is an
   *     error naming file, record and field
   * @param runDir where teachers, students, metrics, the plot and the summary go
   * @param teacherEpochs epochs of each teacher's fine-tuning on its own samples
   * @param studentEpochs epochs of each student over the whole dataset
   * @param learningRate peak learning rate of every run (cosine, 10 % warm-up)
   * @param balancerRate learning rate of the dynamic loss weights (the paper's is 3e-4)
   * @param attentionWeight static weight of each of the three attention losses (the paper's is 1,
   *     as CE's)
   * @param seed seed of the models, the data order and the projection
   */
  public record Options(
      Path dataset,
      boolean standInFrames,
      Path runDir,
      int teacherEpochs,
      int studentEpochs,
      double learningRate,
      double balancerRate,
      double attentionWeight,
      long seed) {}

  /**
   * What the demo measured.
   *
   * @param samples per capability, the number of samples
   * @param teacherCe per capability, its teacher's mean CE on its own samples before and after
   *     fine-tuning
   * @param plain the CE-only student's scores
   * @param distilled the Drive-KD student's scores
   * @param plainRun the CE-only student's training
   * @param distilledRun the Drive-KD student's training
   * @param question the question of the sample answered by greedy decoding
   * @param reference that sample's reference answer
   * @param answer the Drive-KD student's greedy answer
   * @param teacherAnswer the greedy answer of the teacher of that sample's capability
   * @param mcq per model ({@code teacher}, {@code ce-only}, {@code drive-kd}), the multiple-choice
   *     items it answered greedily: each teacher its own capability's, the students all
   * @param plot the loss plot
   */
  public record Result(
      Map<Capability, Integer> samples,
      Map<Capability, double[]> teacherCe,
      AgreementReport plain,
      AgreementReport distilled,
      TrainingSummary plainRun,
      TrainingSummary distilledRun,
      String question,
      String reference,
      String answer,
      String teacherAnswer,
      Map<String, List<McqAccuracy.Item>> mcq,
      Path plot) {}

  private final Options options;

  private DriveKdDemo(Options options) {
    this.options = options;
  }

  /** Runs the demo. */
  public static Result run(Options options) throws IOException {
    return new DriveKdDemo(options).run();
  }

  private Result run() throws IOException {
    Path runDir = options.runDir();
    Path students = runDir.resolve("students");
    if (Files.exists(students)) {
      throw new IllegalArgumentException(
          "the run folder "
              + runDir
              + " already holds trained students; choose a new run folder (a folder that holds"
              + " only teachers/ from an earlier run reuses them)");
    }
    Files.createDirectories(runDir);
    DrivingDataset dataset =
        options.standInFrames()
            ? readWithStandIns(options.dataset(), 224)
            : DrivingDatasetReader.builder().build().read(options.dataset());
    WordTokenizer tokenizer = tokenizer(dataset, runDir.resolve("tokenizer.json"));
    Device device = ComputeDevice.select();
    LOG.info(
        "{} samples {}, vocabulary of {} words, device {}",
        dataset.size(),
        dataset.counts(),
        tokenizer.vocabularySize(),
        device);

    Map<Capability, InternVlModel> teachers = new EnumMap<>(Capability.class);
    Map<Capability, double[]> teacherCe = new EnumMap<>(Capability.class);
    try {
      for (Capability c : Capability.values()) {
        teachers.put(c, specialist(c, dataset, tokenizer, device, teacherCe));
      }
      InternVlConfig studentConfig = config("student-tiny", tokenizer);
      try (InternVlModel plain = InternVlModel.create(studentConfig, device, options.seed());
          InternVlModel distilled = InternVlModel.create(studentConfig, device, options.seed())) {
        BatchEncoder encoder = encoder(tokenizer, plain);
        LOG.info(
            "students: two {} ({} parameters) from one initialisation; teachers: {} ({} each)",
            studentConfig.name(),
            studentConfig.parameterCount(),
            teachers.get(Capability.PERCEPTION).config().name(),
            teachers.get(Capability.PERCEPTION).config().parameterCount());
        TrainingSummary plainRun = trainStudent("ce-only", plain, encoder, dataset, null);
        TrainingSummary distilledRun =
            trainStudent("drive-kd", distilled, encoder, dataset, new EnumMap<>(teachers));
        TeacherAgreement agreement =
            TeacherAgreement.of(
                encoder,
                TeacherPanel.of(new EnumMap<Capability, VisionLanguageModel>(teachers)),
                DistillationRecipe.paper());
        List<AgreementReport> scores = agreement.evaluate(List.of(plain, distilled), dataset);
        AgreementReport plainScores = scores.get(0);
        AgreementReport distilledScores = scores.get(1);
        DrivingSample shown = dataset.get(0);
        GreedyAnswers student = GreedyAnswers.of(distilled, encoder, ANSWER_TOKENS);
        InternVlModel teacher = teachers.get(shown.capability());
        String answer = orNothing(student.apply(shown));
        String teacherAnswer =
            orNothing(
                GreedyAnswers.of(teacher, encoder(tokenizer, teacher), ANSWER_TOKENS).apply(shown));
        Map<String, List<McqAccuracy.Item>> mcq = new LinkedHashMap<>();
        List<McqAccuracy.Item> byTeachers = new ArrayList<>();
        for (Capability c : Capability.values()) {
          InternVlModel t = teachers.get(c);
          byTeachers.addAll(
              McqAccuracy.evaluate(
                  dataset, c, GreedyAnswers.of(t, encoder(tokenizer, t), ANSWER_TOKENS)));
        }
        mcq.put("teacher", byTeachers);
        mcq.put(
            "ce-only",
            McqAccuracy.evaluate(dataset, null, GreedyAnswers.of(plain, encoder, ANSWER_TOKENS)));
        mcq.put("drive-kd", McqAccuracy.evaluate(dataset, null, student));
        Path plot = runDir.resolve("losses.png");
        LossPlot.write(plot, plainRun, distilledRun, TASKS, dataset.size());
        return new Result(
            dataset.counts(),
            teacherCe,
            plainScores,
            distilledScores,
            plainRun,
            distilledRun,
            shown.question(),
            shown.answer(),
            answer,
            teacherAnswer,
            mcq,
            plot);
      }
    } finally {
      teachers.values().forEach(InternVlModel::close);
    }
  }

  /** Reads the dataset, drawing stand-in frames for the images it names that are not there. */
  static DrivingDataset readWithStandIns(Path file, int side) {
    DrivingDataset textOnly =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .build()
            .read(file);
    List<Path> drawn = StandInFrames.writeMissing(textOnly, side);
    if (!drawn.isEmpty()) {
      LOG.info(
          "{} images named by {} are not here: drew stand-in frames in their place",
          drawn.size(),
          file.getFileName());
    }
    return DrivingDatasetReader.builder().build().read(file);
  }

  private static WordTokenizer tokenizer(DrivingDataset dataset, Path file) throws IOException {
    if (Files.exists(file)) {
      return WordTokenizer.load(file);
    }
    WordTokenizer tokenizer = WordTokenizer.builder().addDataset(dataset).build();
    tokenizer.save(file);
    return tokenizer;
  }

  private static InternVlConfig config(String preset, WordTokenizer tokenizer) {
    return InternVlConfig.preset(preset).withTokenizer(tokenizer.identity());
  }

  private static BatchEncoder encoder(WordTokenizer tokenizer, InternVlModel model) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(model.card().imageSize()))
        .setModel(model.card())
        .build();
  }

  /**
   * The teacher of {@code capability}: fine-tuned with CE on that capability's samples and saved,
   * or loaded when an earlier run saved it.
   */
  private InternVlModel specialist(
      Capability capability,
      DrivingDataset dataset,
      WordTokenizer tokenizer,
      Device device,
      Map<Capability, double[]> ce)
      throws IOException {
    Path dir = options.runDir().resolve("teachers").resolve(capability.name().toLowerCase());
    if (Files.exists(dir.resolve(InternVlModel.WEIGHTS_FILE))) {
      LOG.info("{} teacher: loaded from {}", capability, dir);
      ce.put(capability, new double[] {Double.NaN, Double.NaN});
      return InternVlModel.load(dir, device);
    }
    List<DrivingSample> own = new ArrayList<>();
    for (DrivingSample s : dataset.samples()) {
      if (s.capability() == capability) {
        own.add(s);
      }
    }
    DrivingDataset split = new DrivingDataset(dataset.sourceFile(), own, List.of());
    long seed = options.seed() + 100 + capability.ordinal();
    InternVlModel teacher = InternVlModel.create(config("teacher-small", tokenizer), device, seed);
    try {
      BatchEncoder encoder = encoder(tokenizer, teacher);
      long steps = (long) options.teacherEpochs() * split.size();
      LOG.info(
          "{} teacher: fine-tuning on its {} samples, {} epochs",
          capability,
          split.size(),
          options.teacherEpochs());
      try (DistillationTrainer trainer =
          trainer(teacher, encoder, options.teacherEpochs(), steps, seed).build()) {
        TrainingSummary run = trainer.fit(split);
        int n = split.size();
        double before = run.meanLoss(TaskKeys.CE, 0, n);
        double after = run.meanLoss(TaskKeys.CE, run.microSteps() - n, run.microSteps());
        ce.put(capability, new double[] {before, after});
        LOG.info("{} teacher: CE {} -> {} (first and last epoch)", capability, f(before), f(after));
      }
      teacher.save(dir);
      return teacher;
    } catch (IOException | RuntimeException e) {
      teacher.close();
      throw e;
    }
  }

  /** Trains a student on CE alone ({@code teachers == null}) or with Drive-KD. */
  private TrainingSummary trainStudent(
      String name,
      InternVlModel student,
      BatchEncoder encoder,
      DrivingDataset dataset,
      Map<Capability, VisionLanguageModel> teachers)
      throws IOException {
    Path dir = options.runDir().resolve("students").resolve(name);
    Files.createDirectories(dir);
    long steps = (long) options.studentEpochs() * dataset.size();
    LOG.info(
        "{} student: {} epochs over {} samples{}",
        name,
        options.studentEpochs(),
        dataset.size(),
        teachers == null ? ", cross-entropy only" : ", Drive-KD from the three teachers");
    DistillationTrainer.Builder builder =
        trainer(student, encoder, options.studentEpochs(), steps, options.seed())
            .optCheckpoints(CheckpointStore.open(dir.resolve("checkpoints")), 0);
    if (teachers != null) {
      builder
          .optTeachers(TeacherPanel.of(teachers))
          .optLossWeighting(
              LossWeighting.dynamic(
                  staticWeights(options.attentionWeight()),
                  DynamicWeightConfig.defaults().withLearningRate(options.balancerRate())));
    }
    try (MetricsFileListener metrics = new MetricsFileListener(dir.resolve("metrics.jsonl"));
        DistillationTrainer trainer = builder.addListener(metrics).build()) {
      return trainer.fit(dataset);
    }
  }

  /** CE at 1, each capability's attention loss at {@code attention}. */
  static Map<String, Double> staticWeights(double attention) {
    Map<String, Double> weights = new LinkedHashMap<>();
    weights.put(TaskKeys.CE, 1.0);
    for (Capability c : Capability.values()) {
      weights.put(TaskKeys.of(c), attention);
    }
    return weights;
  }

  /**
   * What every run of the demo shares: one sample per optimizer step, a cosine schedule with 10 %
   * warm-up over {@code steps}, a progress bar (without a line per epoch: epochs are a few
   * samples).
   */
  private DistillationTrainer.Builder trainer(
      InternVlModel model, BatchEncoder encoder, int epochs, long steps, long seed) {
    return DistillationTrainer.builder()
        .setStudent(model)
        .setEncoder(encoder)
        .optSchedule(LrSchedule.cosine(options.learningRate(), steps, Math.max(1, steps / 10), 0.1))
        .optAccumulation(1)
        .optEpochs(epochs)
        .optSeed(seed)
        .addListener(ProgressBarListener.builder().optEpochLines(false).build());
  }

  private static String orNothing(String answer) {
    return answer.isEmpty() ? "(nothing before the end of the turn)" : answer;
  }

  static String f(double v) {
    return String.format("%.3f", v);
  }
}
