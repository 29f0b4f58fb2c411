package dev.drivekd.core.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.checkpoint.StepCounters;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.EpochReport;
import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.core.train.listener.StepReport;
import dev.drivekd.core.train.listener.TrainingBegin;
import dev.drivekd.core.train.listener.TrainingEnd;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.GradientProjection;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a student vision-language model by Drive-KD multi-teacher attention distillation (arXiv
 * 2601.21288). Each sample contributes a cross-entropy task and one soft task per active capability
 * teacher; their gradients, taken from one forward and one backward each, are weighted (loss
 * weights times the mixing row of the sample's capability), combined by a {@link
 * GradientProjection} (AGP by default) and accumulated; every {@code A} samples the optimizer
 * steps, then the learning-rate schedule and the dynamic loss weights (method.md 9).
 *
 * <pre>{@code
 * try (DistillationTrainer trainer = DistillationTrainer.builder()
 *     .setStudent(student).setEncoder(encoder).optTeachers(panel).build()) {
 *   trainer.fit(dataset);
 * }
 * }</pre>
 *
 * <p>Without teachers it fine-tunes on the answers alone (cross-entropy). A sample with no active
 * teacher still trains its cross-entropy (architecture.md decisions).
 */
public final class DistillationTrainer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DistillationTrainer.class);

  private final TeacherTargets teachers;
  private final int epochs;
  private final int microBatch;
  private final boolean prefetch;
  private final boolean resume;
  private final List<DistillationListener> listeners;
  private final ObjectNode configuration;
  private final Map<String, Long> seeds;
  private final NDManager manager;
  private final TaskGradientPool pool;
  private final DistillationStep step;
  private final WindowedUpdates updates;
  private final PhaseClock clock = new PhaseClock();

  /**
   * Skipped micro-steps in a row after which a run stops ({@link Builder#optMaxConsecutiveSkips}).
   */
  public static final int DEFAULT_MAX_CONSECUTIVE_SKIPS = 25;

  private final DataOrder dataOrder;
  private final RunCheckpoints checkpoints;
  private ExecutorService prefetchWorker;
  private boolean fitted;

  private DistillationTrainer(Builder b) {
    VisionLanguageModel student = b.student;
    this.teachers = b.teachers;
    this.epochs = b.epochs;
    this.microBatch = b.microBatch;
    this.resume = b.resume;
    this.listeners = List.copyOf(b.listeners);
    this.prefetch =
        b.prefetch != null
            ? b.prefetch
            : InputPrefetcher.pays(
                student.device().isGpu(),
                JniUtils.getNumThreads(),
                Runtime.getRuntime().availableProcessors());
    if (b.prefetch == null && !prefetch) {
      LOG.info(
          "{}: micro-steps are prepared in line; on a CPU a prefetch thread pays only with"
              + " libtorch set to fewer threads than cores (-Dai.djl.pytorch.num_threads, see"
              + " CpuThreads)",
          student.card().name());
    }
    if (teachers != null) {
      Map<Capability, ModelCard> cards = new EnumMap<>(Capability.class);
      for (Capability c : teachers.capabilities()) {
        cards.put(c, teachers.card(c));
      }
      b.recipe.validate(student.card(), cards);
    }
    if (b.freezeVision) {
      student.freezeVision(true);
    }
    List<Pair<String, Parameter>> named = student.namedTrainableParameters();
    List<Parameter> parameters = named.stream().map(Pair::getValue).toList();
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException(
          "student " + student.card().name() + " has no trainable parameter (is it frozen?)");
    }
    this.seeds = RunSeeds.of(b.seed);
    this.configuration = RunConfiguration.of(b, teachers);
    GradientProjection projection = b.projection.optSeed(seeds.get(RunSeeds.PROJECTION_ORDER));
    CoefficientReuse reuse = new CoefficientReuse(projection.refreshEvery());
    PyTorchAdamW optimizer =
        PyTorchAdamW.builder()
            .optLearningRate(b.schedule)
            .optWeightDecay(b.weightDecay)
            .optBetas(b.beta1, b.beta2)
            .optEpsilon(b.epsilon)
            .build();
    this.manager = NDManager.newBaseManager(student.device());
    this.pool =
        new TaskGradientPool(
            manager,
            parameters.stream().map(p -> p.getArray().getShape()).toList(),
            parameters.get(0).getArray().getDataType());
    this.step =
        new DistillationStep(
            student,
            parameters,
            b.encoder,
            teachers,
            b.recipe,
            b.mixing,
            b.weighting,
            projection,
            pool,
            clock,
            reuse);
    this.updates =
        new WindowedUpdates(
            step,
            manager,
            parameters,
            optimizer,
            b.schedule,
            b.weighting,
            b.accumulation,
            b.maxConsecutiveSkips,
            clock);
    this.dataOrder = new DataOrder(b.shuffle, seeds.get(RunSeeds.DATA_ORDER));
    this.checkpoints =
        b.checkpoints == null
            ? null
            : new RunCheckpoints(
                b.checkpoints,
                b.checkpointEvery,
                b.resumeAllowing,
                manager,
                named,
                optimizer,
                b.weighting,
                updates,
                dataOrder,
                projection.random(),
                reuse);
  }

  /** A builder; student and encoder are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Trains for the configured epochs; with {@code optResume}, continues from the store's latest
   * valid checkpoint instead of starting over. A trainer trains once: for more epochs, build a new
   * one that resumes from this one's checkpoints.
   *
   * @return a summary of the micro-steps trained by this call
   * @throws IllegalArgumentException for an empty dataset, or a checkpoint made under another
   *     configuration (the message names the differing keys)
   * @throws IllegalStateException when this trainer has trained already
   */
  public TrainingSummary fit(DrivingDataset dataset) {
    if (fitted) {
      throw new IllegalStateException(
          "this DistillationTrainer has trained already: fit runs once per trainer. Build a new"
              + " trainer; with optCheckpoints and optResume(true) it continues where this one"
              + " stopped");
    }
    fitted = true;
    if (dataset.size() == 0) {
      throw new IllegalArgumentException(
          "dataset " + dataset.sourceFile() + " has no sample to train on");
    }
    RunProvenance provenance = provenance(dataset);
    StepCounters start = resume ? checkpoints.resume(provenance).orElse(null) : null;
    boolean midEpoch = start != null && start.sampleInEpoch() > 0;
    long firstEpoch =
        start == null ? updates.epoch() + 1 : midEpoch ? start.epoch() : start.epoch() + 1;
    int microSteps = (dataset.size() + microBatch - 1) / microBatch;
    long totalSteps = LrSchedule.totalOptimizerSteps(epochs, microSteps, updates.accumulation());
    StepCounters begin = start == null ? new StepCounters(0, 0, 0, 0) : start;
    listeners.forEach(
        l ->
            l.onTrainingBegin(
                new TrainingBegin(provenance, epochs, dataset.size(), totalSteps, begin)));
    TrainingSummary.Recorder summary = new TrainingSummary.Recorder();
    long began = System.nanoTime();
    boolean completed = false;
    long epoch = firstEpoch;
    try {
      for (; epoch < epochs; epoch++) {
        boolean resumed = midEpoch && epoch == firstEpoch;
        int firstStep = resumed ? (int) start.sampleInEpoch() / microBatch : 0;
        List<Integer> order;
        if (resumed) {
          order = dataOrder.currentEpoch(dataset.size());
        } else {
          order = dataOrder.nextEpoch(dataset.size());
          updates.beginEpoch(microSteps);
        }
        trainEpoch(epoch, dataset, order, firstStep, microSteps, provenance, summary);
      }
      completed = true;
    } finally {
      TrainingEnd end =
          new TrainingEnd(
              Math.max(0, Math.min(epoch, epochs - 1)),
              updates.optimizerSteps(),
              updates.microSteps(),
              (System.nanoTime() - began) / 1e9,
              completed);
      listeners.forEach(l -> l.onTrainingEnd(end));
    }
    return summary.finish(updates.skippedUpdates(), updates.optimizerSteps(), clock.seconds());
  }

  /** One epoch's micro-steps from {@code firstStep}, its optimizer steps and checkpoints. */
  private void trainEpoch(
      long epoch,
      DrivingDataset dataset,
      List<Integer> order,
      int firstStep,
      int microSteps,
      RunProvenance provenance,
      TrainingSummary.Recorder summary) {
    long began = System.nanoTime();
    TrainingSummary.Recorder epochLosses = new TrainingSummary.Recorder();
    IntFunction<List<Integer>> indicesAt =
        i -> order.subList(i * microBatch, Math.min(order.size(), (i + 1) * microBatch));
    try (InputPrefetcher inputs =
        new InputPrefetcher(
            step,
            manager,
            prefetchWorker(),
            microSteps,
            indicesAt,
            i -> indicesAt.apply(i).stream().map(dataset::get).toList())) {
      for (int i = firstStep; i < microSteps; i++) {
        clock.start();
        DistillationStep.Prepared prepared = inputs.take(i);
        clock.lap(StepPhase.INPUT_WAIT);
        MicroStepReport report = updates.train(prepared);
        summary.add(report);
        epochLosses.add(report);
        listeners.forEach(l -> l.onMicroStep(report));
        if (report.optimizerStepped()) {
          StepReport stepReport = updates.closeWindowReport(report);
          listeners.forEach(l -> l.onStep(stepReport));
          boolean epochEnd = i + 1 == microSteps;
          if (checkpoints != null && checkpoints.due(epochEnd)) {
            clock.start();
            checkpoints.save(provenance, epoch, epochEnd ? 0 : (long) (i + 1) * microBatch);
            clock.lap(StepPhase.CHECKPOINTS);
          }
        }
      }
    }
    TrainingSummary done = epochLosses.finish(0, 0, Map.of());
    Map<String, Double> means = new LinkedHashMap<>();
    for (String key : done.losses().keySet()) {
      means.put(key, done.meanLoss(key, 0, done.microSteps()));
    }
    EpochReport report =
        new EpochReport(
            epoch,
            updates.optimizerSteps(),
            updates.microSteps(),
            means,
            (System.nanoTime() - began) / 1e9);
    listeners.forEach(l -> l.onEpochEnd(report));
  }

  private RunProvenance provenance(DrivingDataset dataset) {
    return dataset.sourceFile() == null
        ? new RunProvenance(configuration, seeds, RunProvenance.currentVersions(), Map.of(), "", "")
        : RunProvenance.capture(configuration, seeds, List.of(dataset.sourceFile()));
  }

  /** Updates skipped so far because a loss or gradient was not finite. */
  public long skippedUpdates() {
    return updates.skippedUpdates();
  }

  /**
   * Everything that decides this run's result, as its provenance records it (and a resumed run
   * compares): student, teachers with their weights fingerprints, recipe, mixing, loss weights,
   * projection, AdamW, schedule, epochs, micro-batch, accumulation, data order, freezing, seed.
   */
  public ObjectNode configuration() {
    return configuration.deepCopy();
  }

  /** The micro-steps and optimizer updates (tests drive single micro-steps through it). */
  WindowedUpdates updates() {
    return updates;
  }

  /** Arrays alive in the trainer's own manager (window, task buffers, prepared inputs): tests. */
  int managedArrays() {
    return manager.getManagedArrays().size();
  }

  /** The thread that prepares the next micro-step, or null when preparing in line. */
  private ExecutorService prefetchWorker() {
    if (prefetch && prefetchWorker == null) {
      prefetchWorker = InputPrefetcher.newWorker();
    }
    return prefetchWorker;
  }

  @Override
  public void close() {
    if (prefetchWorker != null) {
      prefetchWorker.shutdownNow();
    }
    if (checkpoints != null) {
      checkpoints.close();
    }
    pool.close();
    manager.close();
    if (teachers != null) {
      teachers.close();
    }
  }

  /** Configures a {@link DistillationTrainer}. */
  public static final class Builder {
    VisionLanguageModel student;
    BatchEncoder encoder;
    TeacherTargets teachers;
    DistillationRecipe recipe = DistillationRecipe.paper();
    MixingMatrix mixing = MixingMatrix.paperDefault();
    LossWeighting weighting;
    GradientProjection projection = GradientProjection.agp();
    LrSchedule schedule = LrSchedule.constant(5e-5);
    double weightDecay;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-8;
    int accumulation = 4;
    int maxConsecutiveSkips = DEFAULT_MAX_CONSECUTIVE_SKIPS;
    int epochs = 1;
    int microBatch = 1;
    Boolean prefetch;
    boolean shuffle = true;
    long seed = 42;
    boolean freezeVision;
    final List<DistillationListener> listeners = new ArrayList<>();
    CheckpointStore checkpoints;
    int checkpointEvery;
    boolean resume;
    final Set<String> resumeAllowing = new TreeSet<>();

    private Builder() {}

    /** The trainable student. */
    public Builder setStudent(VisionLanguageModel student) {
      this.student = student;
      return this;
    }

    /** Turns samples into the student's batches (tokenizer, images, tokens per image). */
    public Builder setEncoder(BatchEncoder encoder) {
      this.encoder = encoder;
      return this;
    }

    /** The teachers' targets, live or cached; without them the student trains on CE only. */
    public Builder optTeachers(TeacherTargets teachers) {
      this.teachers = teachers;
      return this;
    }

    /** Signals and losses per capability (default: the paper's). */
    public Builder optRecipe(DistillationRecipe recipe) {
      this.recipe = Objects.requireNonNull(recipe);
      return this;
    }

    /** The teacher mixing matrix (default: 0.8 on the diagonal, 0.1 elsewhere). */
    public Builder optMixing(MixingMatrix mixing) {
      this.mixing = Objects.requireNonNull(mixing);
      return this;
    }

    /** Static or dynamic loss weights (default: dynamic from static weights 1, as the paper). */
    public Builder optLossWeighting(LossWeighting weighting) {
      this.weighting = Objects.requireNonNull(weighting);
      return this;
    }

    /** How task gradients combine (default: AGP); {@code none()} sums them. */
    public Builder optProjection(GradientProjection projection) {
      this.projection = Objects.requireNonNull(projection);
      return this;
    }

    /** The learning-rate schedule (default: constant 5e-5, the reference's default). */
    public Builder optSchedule(LrSchedule schedule) {
      this.schedule = Objects.requireNonNull(schedule);
      return this;
    }

    /** AdamW's decoupled weight decay (default 0, as the reference). */
    public Builder optWeightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** AdamW's betas and epsilon (defaults 0.9, 0.999, 1e-8). */
    public Builder optAdamW(double beta1, double beta2, double epsilon) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      this.epsilon = epsilon;
      return this;
    }

    /** Samples per optimizer step (default 4). */
    public Builder optAccumulation(int accumulation) {
      this.accumulation = accumulation;
      return this;
    }

    /**
     * Samples per micro-step (default 1, the reference). With more, one forward and one backward
     * per task serve the whole micro-batch and the mixing weights each sample's soft loss.
     */
    public Builder optMicroBatch(int samples) {
      this.microBatch = samples;
      return this;
    }

    /**
     * Whether the next micro-step's inputs (encoding, teacher forwards or cache reads) are prepared
     * on a background thread while the current one trains. The results are the same bit for bit;
     * only the time differs. By default it is on for a GPU, and on a CPU when libtorch runs fewer
     * intra-op threads than the machine has cores (see {@code CpuThreads}): with libtorch as wide
     * as the machine, a second busy thread oversubscribes the cores and slows every step (2 to 3x
     * measured on 2 cores).
     */
    public Builder optPrefetch(boolean prefetch) {
      this.prefetch = prefetch;
      return this;
    }

    /**
     * Stops the run with a {@link TrainingStoppedException} when this many micro-steps in a row
     * were skipped for a non-finite loss or gradient (default {@value
     * DistillationTrainer#DEFAULT_MAX_CONSECUTIVE_SKIPS}): a run whose every step is bad stops
     * instead of spinning. The weights and the optimizer state are those of the last good update;
     * the last checkpoint is untouched. {@code 0} never stops.
     */
    public Builder optMaxConsecutiveSkips(int skips) {
      if (skips < 0) {
        throw new IllegalArgumentException("maxConsecutiveSkips must be >= 0, got " + skips);
      }
      this.maxConsecutiveSkips = skips;
      return this;
    }

    /** Passes over the dataset (default 1). */
    public Builder optEpochs(int epochs) {
      this.epochs = epochs;
      return this;
    }

    /** Whether each epoch visits the samples in a fresh seeded order (default true). */
    public Builder optShuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    /**
     * The run's seed (default 42): the data order uses it, the projection's stage-2 order a seed
     * derived from it, so the two streams never draw the same numbers.
     */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Freezes the student's vision encoder and projector before training (default false). */
    public Builder optFreezeVision(boolean freezeVision) {
      this.freezeVision = freezeVision;
      return this;
    }

    /**
     * Called at the begin and end of training, after every micro-step, optimizer step and epoch
     * ({@link DistillationListener}).
     */
    public Builder addListener(DistillationListener listener) {
      this.listeners.add(Objects.requireNonNull(listener));
      return this;
    }

    /**
     * Saves a checkpoint into {@code store} at the end of every epoch and, when {@code
     * everyOptimizerSteps > 0}, every that many optimizer steps.
     */
    public Builder optCheckpoints(CheckpointStore store, int everyOptimizerSteps) {
      this.checkpoints = Objects.requireNonNull(store);
      this.checkpointEvery = everyOptimizerSteps;
      return this;
    }

    /**
     * Continues from the checkpoint store's latest valid checkpoint, if there is one; on CPU the
     * result is bit-identical to a run that was never interrupted.
     */
    public Builder optResume(boolean resume) {
      this.resume = resume;
      return this;
    }

    /**
     * Lets a resumed run continue although its configuration differs from the checkpoint's in these
     * keys (or keys under them), e.g. {@code "epochs"} to extend a run, {@code "schedule"} for a
     * new learning-rate schedule. Without it, resuming under another configuration fails with a
     * message naming every differing key ({@link DistillationTrainer#configuration()}'s keys, plus
     * {@code data.fingerprint} and {@code seeds.*}). Each allowed change is logged.
     */
    public Builder optResumeAllowing(String... keys) {
      for (String key : keys) {
        resumeAllowing.add(Objects.requireNonNull(key));
      }
      return this;
    }

    /** Builds the trainer, checking the recipe against student and teachers. */
    public DistillationTrainer build() {
      if (student == null || encoder == null) {
        throw new IllegalArgumentException("a DistillationTrainer needs a student and an encoder");
      }
      if (microBatch < 1) {
        throw new IllegalArgumentException("micro-batch must be >= 1 sample, got " + microBatch);
      }
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
      }
      if (resume && checkpoints == null) {
        throw new IllegalArgumentException("optResume needs optCheckpoints (where to resume from)");
      }
      if (weighting == null) {
        weighting = LossWeighting.dynamic(TaskKeys.defaultStaticWeights());
      }
      return new DistillationTrainer(this);
    }
  }
}
