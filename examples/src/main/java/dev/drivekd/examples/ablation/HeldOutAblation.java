package dev.drivekd.examples.ablation;

import ai.djl.Device;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.CoefficientReuseSummary;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.listener.ProgressBarListener;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.eval.AgreementReport;
import dev.drivekd.eval.McqOption;
import dev.drivekd.eval.OptionChoice;
import dev.drivekd.eval.TeacherAgreement;
import dev.drivekd.eval.synthdrive.SynthDrive;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The held-out ablation of issue 11, the paper's Table 3 on SynthDrive: students of one size, one
 * initialisation per seed, trained on a small labelled split with the same budget, once per {@link
 * AblationVariant}, all scored on a held-out test split.
 *
 * <ol>
 *   <li>the labelled and test splits are generated from the teachers' data seed (splits never
 *       share a scene with the teachers' training split);
 *   <li>the three teachers are loaded from their folder (checked against the generator's
 *       fingerprint and their weights' fingerprints) and their targets for the labelled split are
 *       computed once into a cache that every distilled student reads;
 *   <li>per seed, every variant trains a {@code student-tiny} from that seed's initialisation, same
 *       labels, same order, same steps;
 *   <li>each student is scored on the test split: multiple-choice accuracy per capability (the
 *       option ranked first after {@code Final: {}), answer cross-entropy, and the distance of its
 *       attention signals to the teachers' ({@link TeacherAgreement}).
 * </ol>
 */
public final class HeldOutAblation {

  private static final Logger LOG = LoggerFactory.getLogger(HeldOutAblation.class);

  /**
   * What the ablation runs.
   *
   * @param runDir where data, cache and report go (must not hold a report yet)
   * @param teachers the teacher folder ({@link SynthDriveTeachers})
   * @param config the generator settings (the teachers must have been made for them)
   * @param labelledScenes scenes of the labelled split (three questions each)
   * @param testScenes scenes of the held-out test split
   * @param seeds the students' seeds (initialisation and sample order)
   * @param variants the variants, in report order
   * @param epochs epochs over the labelled split, every variant alike
   * @param microBatch samples per optimizer step
   * @param learningRate peak rate (cosine, 10 % warm-up, to a tenth)
   * @param attentionWeight static weight of each teacher's attention loss, CE's being 1
   * @param studentPreset the students' native preset
   */
  public record Options(
      Path runDir,
      Path teachers,
      SynthDriveConfig config,
      int labelledScenes,
      int testScenes,
      List<Long> seeds,
      List<AblationVariant> variants,
      int epochs,
      int microBatch,
      double learningRate,
      double attentionWeight,
      String studentPreset) {

    /**
     * The default run: 300 labelled scenes (900 questions), 200 test scenes, 3 seeds, every
     * variant, 2 epochs of micro-batches of 8 (what fits 15 minutes on 2 cores), attention weight
     * 100 (the PyTorch pilot's: the paper's 1 is far too small at this scale).
     */
    public static Options defaults(Path runDir, Path teachers) {
      return new Options(
          runDir,
          teachers,
          SynthDriveConfig.defaults(),
          300,
          200,
          List.of(1L, 2L, 3L),
          AblationVariant.TABLE_3,
          2,
          8,
          3e-3,
          100,
          "student-tiny");
    }

    /** The same options with other variants. */
    public Options withVariants(List<AblationVariant> chosen) {
      return new Options(
          runDir,
          teachers,
          config,
          labelledScenes,
          testScenes,
          seeds,
          List.copyOf(chosen),
          epochs,
          microBatch,
          learningRate,
          attentionWeight,
          studentPreset);
    }

    /** The same options with {@code n} seeds (1 to n). */
    public Options withSeeds(int n) {
      List<Long> s = new ArrayList<>();
      for (long i = 1; i <= n; i++) {
        s.add(i);
      }
      return new Options(
          runDir,
          teachers,
          config,
          labelledScenes,
          testScenes,
          s,
          variants,
          epochs,
          microBatch,
          learningRate,
          attentionWeight,
          studentPreset);
    }

    /** A shortened run end to end (CI): few scenes, one seed, one epoch. */
    public Options quick() {
      return new Options(
          runDir,
          teachers,
          config,
          12,
          8,
          List.of(1L),
          variants,
          1,
          4,
          learningRate,
          attentionWeight,
          studentPreset);
    }
  }

  /**
   * One trained student's scores on the test split.
   *
   * @param variant the variant's key
   * @param seed the student's seed
   * @param accuracyOverall share of the multiple-choice questions answered right
   * @param accuracy per capability key, the share answered right
   * @param answerCe mean answer cross-entropy per capability key
   * @param attentionGap per capability key, the mean loss of the student's signal to the teacher of
   *     the sample's capability
   * @param trainSeconds wall time of the training
   * @param optimizerSteps optimizer steps taken
   * @param skippedUpdates updates skipped (non-finite)
   * @param reuse what an amortised projection reused, with its fit and drift cosines
   */
  public record Row(
      String variant,
      long seed,
      double accuracyOverall,
      Map<String, Double> accuracy,
      Map<String, Double> answerCe,
      Map<String, Double> attentionGap,
      double trainSeconds,
      long optimizerSteps,
      long skippedUpdates,
      CoefficientReuseSummary reuse) {

    /** A row of a variant that combines every micro-step. */
    public Row(
        String variant,
        long seed,
        double accuracyOverall,
        Map<String, Double> accuracy,
        Map<String, Double> answerCe,
        Map<String, Double> attentionGap,
        double trainSeconds,
        long optimizerSteps,
        long skippedUpdates) {
      this(
          variant,
          seed,
          accuracyOverall,
          accuracy,
          answerCe,
          attentionGap,
          trainSeconds,
          optimizerSteps,
          skippedUpdates,
          CoefficientReuseSummary.none());
    }
  }

  /**
   * What the ablation measured.
   *
   * @param rows one per variant and seed, seeds outermost
   * @param questions per capability key, the test split's multiple-choice questions
   * @param labelled the labelled split's questions
   * @param teacherAccuracy per capability key, its teacher's accuracy on that capability's test
   *     questions (what the students could learn from, measured before any student runs)
   * @param seconds wall time of the whole run
   */
  public record Result(
      List<Row> rows,
      Map<String, Integer> questions,
      int labelled,
      Map<String, Double> teacherAccuracy,
      double seconds) {}

  private final Options options;

  private HeldOutAblation(Options options) {
    this.options = options;
  }

  /** Runs the ablation. */
  public static Result run(Options options) throws IOException {
    return new HeldOutAblation(options).run();
  }

  private Result run() throws IOException {
    long began = System.nanoTime();
    Path runDir = options.runDir();
    if (Files.exists(runDir.resolve(AblationReport.JSON_FILE))
        || Files.exists(runDir.resolve("students"))) {
      throw new IllegalArgumentException(
          "the run folder " + runDir + " already holds results; choose a new run folder");
    }
    SynthDriveTeachers.Manifest manifest =
        SynthDriveTeachers.manifest(options.teachers(), options.config());
    WordTokenizer tokenizer =
        WordTokenizer.load(options.teachers().resolve(SynthDriveTeachers.TOKENIZER));
    SynthDrive synth = new SynthDrive(options.config(), manifest.recipe().dataSeed());
    Path dataDir = runDir.resolve("data");
    DrivingDatasetReader reader = DrivingDatasetReader.builder().optDataRoot(dataDir).build();
    DrivingDataset labelled =
        reader.read(synth.write(dataDir, SynthDrive.Split.LABELLED, options.labelledScenes()));
    DrivingDataset test =
        reader.read(synth.write(dataDir, SynthDrive.Split.TEST, options.testScenes()));
    List<DrivingSample> choice = new ArrayList<>();
    Map<String, Integer> questions = new LinkedHashMap<>();
    for (DrivingSample s : test.samples()) {
      if (OptionChoice.optionCount(s.question()) > 0) {
        choice.add(s);
        questions.merge(s.capability().key(), 1, Integer::sum);
      }
    }
    Device device = ComputeDevice.select();
    InternVlConfig preset = InternVlConfig.preset(options.studentPreset());
    InternVlConfig studentConfig =
        preset.withTokenizer(tokenizer.identity()).withInitializerRange(preset.fanInStd());
    Map<Capability, InternVlModel> teachers = new EnumMap<>(Capability.class);
    List<Row> rows = new ArrayList<>();
    Map<String, Double> teacherAccuracy = new LinkedHashMap<>();
    try {
      for (Capability c : Capability.values()) {
        teachers.put(c, SynthDriveTeachers.load(options.teachers(), c, device));
      }
      SynthDriveTeachers.checkWeights(manifest, teachers, options.teachers());
      for (Capability c : Capability.values()) {
        List<DrivingSample> own = choice.stream().filter(s -> s.capability() == c).toList();
        InternVlModel t = teachers.get(c);
        char[] chosen =
            new OptionChoice(t, SynthDriveTeachers.encoder(tokenizer, t), dataRoot(test))
                .choose(own, 32);
        teacherAccuracy.put(c.key(), accuracy(own, chosen));
        LOG.info(
            "{} teacher: held-out accuracy {} on its {} questions",
            c.key(),
            String.format("%.3f", teacherAccuracy.get(c.key())),
            own.size());
      }
      TeacherPanel panel = TeacherPanel.of(new EnumMap<Capability, VisionLanguageModel>(teachers));
      Path cache = runDir.resolve("teacher-cache");
      try (InternVlModel probe = InternVlModel.create(studentConfig, device, 0)) {
        BatchEncoder encoder = SynthDriveTeachers.encoder(tokenizer, probe);
        LOG.info("teacher targets for the {} labelled questions -> {}", labelled.size(), cache);
        TeacherTargetPrecomputer.builder()
            .setTeachers(panel)
            .setStudent(probe.card())
            .setEncoder(encoder)
            .build()
            .precompute(labelled, cache);
      }
      for (long seed : options.seeds()) {
        rows.addAll(
            trainSeed(
                seed, studentConfig, tokenizer, device, labelled, test, choice, cache, panel));
      }
    } finally {
      teachers.values().forEach(InternVlModel::close);
    }
    return new Result(
        rows, questions, labelled.size(), teacherAccuracy, (System.nanoTime() - began) / 1e9);
  }

  /**
   * Every variant of one seed: trained, then scored together (the teachers run once per sample).
   */
  private List<Row> trainSeed(
      long seed,
      InternVlConfig studentConfig,
      WordTokenizer tokenizer,
      Device device,
      DrivingDataset labelled,
      DrivingDataset test,
      List<DrivingSample> choice,
      Path cache,
      TeacherPanel panel)
      throws IOException {
    List<InternVlModel> students = new ArrayList<>();
    List<TrainingSummary> runs = new ArrayList<>();
    List<Double> seconds = new ArrayList<>();
    try {
      for (AblationVariant variant : options.variants()) {
        InternVlModel student = InternVlModel.create(studentConfig, device, seed);
        students.add(student);
        LOG.info("seed {}: {} ({} labelled questions)", seed, variant.key(), labelled.size());
        long t0 = System.nanoTime();
        runs.add(
            train(
                variant,
                student,
                SynthDriveTeachers.encoder(tokenizer, student),
                labelled,
                cache,
                seed));
        seconds.add((System.nanoTime() - t0) / 1e9);
      }
      BatchEncoder encoder = SynthDriveTeachers.encoder(tokenizer, students.get(0));
      List<AgreementReport> agreement =
          TeacherAgreement.of(encoder, panel, DistillationRecipe.paper()).evaluate(students, test);
      List<Row> rows = new ArrayList<>();
      for (int k = 0; k < students.size(); k++) {
        AblationVariant variant = options.variants().get(k);
        char[] chosen =
            new OptionChoice(students.get(k), encoder, dataRoot(test)).choose(choice, 32);
        rows.add(row(variant, seed, choice, chosen, agreement.get(k), runs.get(k), seconds.get(k)));
        LOG.info(
            "seed {}: {} held-out accuracy {}",
            seed,
            variant.key(),
            String.format("%.3f", rows.get(k).accuracyOverall()));
      }
      return rows;
    } finally {
      students.forEach(InternVlModel::close);
    }
  }

  /** The folder a SynthDrive dataset's image paths are relative to (its JSON file's). */
  private static Path dataRoot(DrivingDataset dataset) {
    return dataset.sourceFile().toAbsolutePath().getParent();
  }

  private TrainingSummary train(
      AblationVariant variant,
      InternVlModel student,
      BatchEncoder encoder,
      DrivingDataset labelled,
      Path cache,
      long seed) {
    long steps =
        LrSchedule.totalOptimizerSteps(
            options.epochs(),
            (labelled.size() + options.microBatch() - 1) / options.microBatch(),
            1);
    Map<String, Double> weights = new LinkedHashMap<>();
    weights.put(TaskKeys.CE, 1.0);
    DistillationTrainer.Builder builder =
        DistillationTrainer.builder()
            .setStudent(student)
            .setEncoder(encoder)
            .optSchedule(
                LrSchedule.cosine(options.learningRate(), steps, Math.max(1, steps / 10), 0.1))
            .optMicroBatch(options.microBatch())
            .optAccumulation(1)
            .optEpochs(options.epochs())
            .optSeed(seed)
            .addListener(ProgressBarListener.builder().optEpochLines(false).build());
    CachedTeacherTargets targets = null;
    if (variant.distils()) {
      Map<Capability, CapabilitySignalLoss> losses = new EnumMap<>(Capability.class);
      for (Capability c : variant.teachers()) {
        losses.put(c, DistillationRecipe.paper().loss(c));
        weights.put(TaskKeys.of(c), options.attentionWeight());
      }
      DistillationRecipe recipe = DistillationRecipe.of(losses);
      targets =
          CachedTeacherTargets.builder(cache)
              .optRecipe(recipe)
              .optCapabilities(variant.teachers())
              .setStudent(student.card())
              .setDataset(labelled)
              .open();
      builder
          .optTeachers(targets)
          .optRecipe(recipe)
          .optMixing(variant.mixing())
          .optProjection(variant.projection());
    }
    builder.optLossWeighting(LossWeighting.staticWeights(weights));
    try (DistillationTrainer trainer = builder.build()) {
      return trainer.fit(labelled);
    } finally {
      if (targets != null) {
        targets.close();
      }
    }
  }

  /** Share of {@code samples} whose chosen letter is their answer's option. */
  static double accuracy(List<DrivingSample> samples, char[] chosen) {
    int right = 0;
    for (int i = 0; i < samples.size(); i++) {
      Optional<Character> want = McqOption.of(samples.get(i).answer(), McqOption.Rule.FINAL_OPTION);
      if (want.isPresent() && want.get() == chosen[i]) {
        right++;
      }
    }
    return samples.isEmpty() ? Double.NaN : (double) right / samples.size();
  }

  private static Row row(
      AblationVariant variant,
      long seed,
      List<DrivingSample> choice,
      char[] chosen,
      AgreementReport agreement,
      TrainingSummary run,
      double seconds) {
    Map<String, Double> accuracy = new LinkedHashMap<>();
    Map<String, Double> ce = new LinkedHashMap<>();
    Map<String, Double> gap = new LinkedHashMap<>();
    for (Capability c : Capability.values()) {
      List<DrivingSample> own = new ArrayList<>();
      StringBuilder letters = new StringBuilder();
      for (int i = 0; i < choice.size(); i++) {
        if (choice.get(i).capability() == c) {
          own.add(choice.get(i));
          letters.append(chosen[i]);
        }
      }
      accuracy.put(c.key(), accuracy(own, letters.toString().toCharArray()));
      ce.put(c.key(), agreement.meanCrossEntropy(c));
      gap.put(c.key(), agreement.meanOwnTeacherLoss(c));
    }
    return new Row(
        variant.key(),
        seed,
        accuracy(choice, chosen),
        accuracy,
        ce,
        gap,
        seconds,
        run.optimizerSteps(),
        run.skippedUpdates(),
        run.reuse());
  }
}
