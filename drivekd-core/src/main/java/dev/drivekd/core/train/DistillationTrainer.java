package dev.drivekd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ParameterGradients;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.train.checkpoint.Checkpoint;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.RandomStates;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.checkpoint.StepCounters;
import dev.drivekd.core.train.checkpoint.StudentWeights;
import dev.drivekd.core.train.listener.EpochReport;
import dev.drivekd.core.train.listener.StepReport;
import dev.drivekd.core.train.listener.TrainingBegin;
import dev.drivekd.core.train.listener.TrainingEnd;
import dev.drivekd.core.train.listener.TrainingListener;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.gradproj.GradientWriter;
import dev.drivekd.gradproj.ShuffleRandom;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
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

  private final VisionLanguageModel student;
  private final TeacherTargets teachers;
  private final PyTorchAdamW optimizer;
  private final LrSchedule schedule;
  private final LossWeighting weighting;
  private AccumulationSchedule accumulation;
  private final int epochs;
  private final int microBatch;
  private final boolean prefetch;
  private ExecutorService prefetchWorker;
  private final boolean shuffle;
  private final ShuffleRandom dataOrder;
  private final List<Consumer<MicroStepReport>> listeners;
  private final List<TrainingListener> trainingListeners;
  private final CheckpointStore checkpoints;
  private final int checkpointEvery;
  private final boolean resume;
  private final long seed;
  private final DistillationRecipe recipe;
  private final GradientProjection projection;
  private final List<Pair<String, Parameter>> named;
  private final List<Parameter> parameters;
  private final NDManager manager;
  private final TaskGradientPool pool;
  private final DistillationStep step;
  private final List<NDArray> window;
  private long skippedUpdates;
  private int contributionsInWindow;
  private long dataOrderAtEpochStart;
  private final WindowStats stats = new WindowStats();
  private Checkpoint restoredCheckpoint;
  private static final String DATA_ORDER = "data-order";
  private static final String DATA_ORDER_NOW = "data-order-now";
  private static final String PROJECTION_ORDER = "projection-order";

  private DistillationTrainer(Builder b) {
    this.student = b.student;
    this.teachers = b.teachers;
    this.schedule = b.schedule;
    this.optimizer =
        PyTorchAdamW.builder()
            .optLearningRate(b.schedule)
            .optWeightDecay(b.weightDecay)
            .optBetas(b.beta1, b.beta2)
            .optEpsilon(b.epsilon)
            .build();
    this.weighting = b.weighting;
    this.accumulation = new AccumulationSchedule(b.accumulation);
    this.epochs = b.epochs;
    this.microBatch = b.microBatch;
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
    this.shuffle = b.shuffle;
    this.dataOrder = new ShuffleRandom(b.seed);
    this.listeners = List.copyOf(b.listeners);
    this.trainingListeners = List.copyOf(b.trainingListeners);
    this.checkpoints = b.checkpoints;
    this.checkpointEvery = b.checkpointEvery;
    this.resume = b.resume;
    this.seed = b.seed;
    this.recipe = b.recipe;
    this.projection = b.projection.optSeed(b.seed);
    if (b.freezeVision) {
      student.freezeVision(true);
    }
    this.named = student.namedTrainableParameters();
    this.parameters = named.stream().map(Pair::getValue).toList();
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException(
          "student " + student.card().name() + " has no trainable parameter (is it frozen?)");
    }
    this.manager = NDManager.newBaseManager(student.device());
    List<Shape> shapes = new ArrayList<>();
    for (Parameter p : parameters) {
      shapes.add(p.getArray().getShape());
    }
    DataType type = parameters.get(0).getArray().getDataType();
    this.pool = new TaskGradientPool(manager, shapes, type);
    this.step =
        new DistillationStep(
            student,
            parameters,
            b.encoder,
            teachers,
            b.recipe,
            b.mixing,
            weighting,
            projection,
            pool);
    // with accumulation, the window's sum lives beside the gradients (one parameter-sized set)
    this.window = new ArrayList<>();
    if (b.accumulation > 1) {
      for (Shape s : shapes) {
        window.add(manager.zeros(s, type));
      }
    }
    if (teachers != null) {
      Map<Capability, ModelCard> cards = new EnumMap<>(Capability.class);
      for (Capability c : teachers.capabilities()) {
        cards.put(c, teachers.card(c));
      }
      b.recipe.validate(student.card(), cards);
    }
  }

  /** A builder; student and encoder are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Trains for the configured epochs; with {@code optResume}, continues from the store's latest
   * valid checkpoint instead of starting over.
   *
   * @return a summary of the micro-steps trained by this call
   * @throws IllegalArgumentException for an empty dataset
   */
  public TrainingSummary fit(DrivingDataset dataset) {
    if (dataset.size() == 0) {
      throw new IllegalArgumentException(
          "dataset " + dataset.sourceFile() + " has no sample to train on");
    }
    RunProvenance provenance = provenance(dataset);
    StepCounters start = resume ? restoreLatest() : null;
    long firstEpoch = start == null ? accumulation.epoch() + 1 : start.epoch();
    int skipInEpoch = start == null ? 0 : (int) start.sampleInEpoch();
    boolean resumingMidEpoch = start != null && skipInEpoch > 0;
    if (start != null && !resumingMidEpoch) {
      firstEpoch = start.epoch() + 1;
    }
    int microSteps = (dataset.size() + microBatch - 1) / microBatch;
    long totalSteps =
        LrSchedule.totalOptimizerSteps(epochs, microSteps, accumulation.accumulation());
    StepCounters begin = start == null ? new StepCounters(0, 0, 0, 0) : start;
    trainingListeners.forEach(
        l ->
            l.onTrainingBegin(
                new TrainingBegin(provenance, epochs, dataset.size(), totalSteps, begin)));
    TrainingSummary.Recorder summary = new TrainingSummary.Recorder();
    long began = System.nanoTime();
    boolean completed = false;
    long epoch = firstEpoch;
    try {
      for (; epoch < epochs; epoch++) {
        long epochBegan = System.nanoTime();
        List<Integer> order;
        if (resumingMidEpoch && epoch == firstEpoch) {
          order = epochOrder(dataset.size(), dataOrderAtEpochStart);
        } else {
          dataOrderAtEpochStart = dataOrder.state();
          order = epochOrder(dataset.size(), dataOrderAtEpochStart);
          startEpoch(microSteps);
          skipInEpoch = 0;
        }
        TrainingSummary.Recorder epochLosses = new TrainingSummary.Recorder();
        List<Integer> epochOrder = order;
        IntFunction<List<Integer>> indicesAt =
            i ->
                epochOrder.subList(
                    i * microBatch, Math.min(epochOrder.size(), (i + 1) * microBatch));
        try (InputPrefetcher inputs =
            new InputPrefetcher(
                step,
                manager,
                prefetchWorker(),
                microSteps,
                indicesAt,
                i -> indicesAt.apply(i).stream().map(dataset::get).toList())) {
          for (int i = skipInEpoch / microBatch; i < microSteps; i++) {
            MicroStepReport report = trainOn(inputs.take(i));
            summary.add(report);
            epochLosses.add(report);
            for (Consumer<MicroStepReport> l : listeners) {
              l.accept(report);
            }
            if (report.optimizerStepped()) {
              afterOptimizerStep(report, provenance, i + 1 == microSteps);
            }
          }
        }
        TrainingSummary done = epochLosses.finish(0, 0);
        Map<String, Double> means = new LinkedHashMap<>();
        for (String key : done.losses().keySet()) {
          means.put(key, done.meanLoss(key, 0, done.microSteps()));
        }
        long e = epoch;
        double seconds = (System.nanoTime() - epochBegan) / 1e9;
        trainingListeners.forEach(
            l ->
                l.onEpochEnd(
                    new EpochReport(
                        e,
                        accumulation.optimizerSteps(),
                        accumulation.microSteps(),
                        means,
                        seconds)));
      }
      completed = true;
    } finally {
      double seconds = (System.nanoTime() - began) / 1e9;
      TrainingEnd end =
          new TrainingEnd(
              Math.max(0, Math.min(epoch, epochs - 1)),
              accumulation.optimizerSteps(),
              accumulation.microSteps(),
              seconds,
              completed);
      trainingListeners.forEach(l -> l.onTrainingEnd(end));
    }
    return summary.finish(skippedUpdates, accumulation.optimizerSteps());
  }

  /** The epoch's sample order drawn from the data-order stream at {@code state}. */
  private List<Integer> epochOrder(int size, long state) {
    List<Integer> order = IntStream.range(0, size).boxed().toList();
    if (!shuffle) {
      return order;
    }
    dataOrder.restore(state);
    return dataOrder.shuffled(order);
  }

  private void afterOptimizerStep(
      MicroStepReport last, RunProvenance provenance, boolean epochEnd) {
    StepReport report = stats.toReport(last, accumulation, skippedUpdates, weighting);
    trainingListeners.forEach(l -> l.onStep(report));
    stats.reset();
    boolean due =
        checkpoints != null
            && (epochEnd
                || (checkpointEvery > 0 && accumulation.optimizerSteps() % checkpointEvery == 0));
    if (due) {
      saveCheckpoint(
          provenance, epochEnd ? 0 : (last.indexInEpoch() + 1) * microBatch, last.epoch());
    }
  }

  private void saveCheckpoint(RunProvenance provenance, int nextSampleInEpoch, long epoch) {
    try (NDManager scratch = manager.newSubManager()) {
      Checkpoint checkpoint =
          Checkpoint.builder()
              .setCounters(
                  new StepCounters(
                      epoch,
                      accumulation.microSteps(),
                      accumulation.optimizerSteps(),
                      nextSampleInEpoch))
              .setStudentWeights(StudentWeights.of(named))
              .setProvenance(provenance)
              .optOptimizer(optimizer.exportState(scratch, named))
              .optLossWeighting(weighting.exportState())
              .optAccumulation(accumulation.exportState())
              .optRandomStates(
                  RandomStates.empty()
                      .withLongs(DATA_ORDER, dataOrderAtEpochStart)
                      .withLongs(DATA_ORDER_NOW, dataOrder.state())
                      .withLongs(PROJECTION_ORDER, projection.random().state()))
              .build();
      Path saved = checkpoints.save(checkpoint);
      LOG.info("checkpoint {} saved", saved);
    }
  }

  /**
   * Restores the latest valid checkpoint of the store into the student, optimizer, loss weights,
   * accumulation and random streams.
   *
   * @return its counters, or null when the store has none (a fresh start)
   */
  private StepCounters restoreLatest() {
    if (checkpoints == null) {
      throw new IllegalStateException("resuming needs a checkpoint store (optCheckpoints)");
    }
    Optional<Checkpoint> found = checkpoints.latestValid(manager);
    if (found.isEmpty()) {
      LOG.info("no checkpoint in {}; training from the start", checkpoints.directory());
      return null;
    }
    Checkpoint c = found.get();
    String source = checkpoints.directory() + "/" + checkpoints.latestName().orElse("?");
    StudentWeights.copyInto(named, c.studentWeights(), source);
    c.optimizer().ifPresent(state -> optimizer.importState(state, named));
    c.lossWeighting().ifPresent(this::restoreWeighting);
    c.accumulation().ifPresent(state -> accumulation = AccumulationSchedule.fromState(state));
    dataOrderAtEpochStart = c.randomStates().longState(DATA_ORDER);
    dataOrder.restore(c.randomStates().longState(DATA_ORDER_NOW));
    projection.random().restore(c.randomStates().longState(PROJECTION_ORDER));
    // the optimizer copies the moments at its first update: the arrays stay open until the run ends
    restoredCheckpoint = c;
    LOG.info("resumed from {} at optimizer step {}", source, c.counters().optimizerStep());
    return c.counters();
  }

  private void restoreWeighting(LossWeightingState state) {
    if (weighting instanceof DynamicLossWeighting dynamic) {
      dynamic.restore(state);
    } else if (state.dynamic()) {
      throw new IllegalArgumentException(
          "the checkpoint holds dynamic loss weights but this trainer uses static ones");
    }
  }

  private RunProvenance provenance(DrivingDataset dataset) {
    ObjectNode recipeJson = JsonNodeFactory.instance.objectNode();
    recipeJson.put("recipe", recipe.toString());
    recipeJson.put("projection", projection.name());
    recipeJson.put("accumulation", accumulation.accumulation());
    recipeJson.put("epochs", epochs);
    recipeJson.put("schedule", schedule.toString());
    recipeJson.put("weighting", weighting.isDynamic() ? "dynamic" : "static");
    recipeJson.put("student", student.card().toString());
    Map<String, Long> seeds = new LinkedHashMap<>();
    seeds.put(DATA_ORDER, seed);
    seeds.put(PROJECTION_ORDER, seed);
    List<Path> files = dataset.sourceFile() == null ? List.of() : List.of(dataset.sourceFile());
    return files.isEmpty()
        ? new RunProvenance(recipeJson, seeds, RunProvenance.currentVersions(), Map.of(), "", "")
        : RunProvenance.capture(recipeJson, seeds, files);
  }

  void startEpoch(int samples) {
    accumulation.beginEpoch(samples);
  }

  /** Trains on one sample (one micro-step) and steps the optimizer at a window's end. */
  MicroStepReport trainOn(int sampleIndex, DrivingSample sample) {
    return trainOn(List.of(sampleIndex), List.of(sample));
  }

  /** Trains on one micro-batch and steps the optimizer at a window's end. */
  MicroStepReport trainOn(List<Integer> sampleIndices, List<DrivingSample> samples) {
    return trainOn(step.prepare(manager.newSubManager(), sampleIndices, samples));
  }

  /** Trains on prepared inputs (closed here) and steps the optimizer at a window's end. */
  private MicroStepReport trainOn(DistillationStep.Prepared prepared) {
    List<Integer> sampleIndices = prepared.indices();
    List<DrivingSample> samples = prepared.samples();
    AccumulationSchedule.MicroStep micro = accumulation.nextMicroStep();
    double rate = schedule.rateAtOptimizerStep(accumulation.optimizerSteps() + 1);
    DistillationStep.Outcome outcome;
    try (prepared;
        NDManager scratch = manager.newSubManager()) {
      List<NDArray> target = window.isEmpty() ? gradients(scratch) : window;
      outcome = step.run(scratch, prepared, micro.lossScale(), target);
    }
    if (outcome.skipped() == null) {
      contributionsInWindow++;
    } else {
      skippedUpdates++;
      LOG.warn(
          "records {} of {}: update skipped, {}",
          samples.stream().map(DrivingSample::recordIndex).toList(),
          samples.get(0).sourceFile(),
          outcome.skipped());
    }
    stats.add(outcome, weighting);
    if (micro.stepAfter()) {
      optimizerStep();
    }
    return new MicroStepReport(
        micro.epoch(),
        micro.indexInEpoch(),
        sampleIndices,
        samples.stream().map(DrivingSample::capability).toList(),
        outcome.losses(),
        outcome.taskWeights(),
        outcome.norms(),
        outcome.projection(),
        outcome.skipped(),
        micro.stepAfter(),
        rate);
  }

  /** Updates skipped so far because a loss or gradient was not finite. */
  public long skippedUpdates() {
    return skippedUpdates;
  }

  /** The loss weighting (its current weights move when dynamic). */
  public LossWeighting weighting() {
    return weighting;
  }

  /** The optimizer, for checkpointing its state. */
  public PyTorchAdamW optimizer() {
    return optimizer;
  }

  private List<NDArray> gradients(NDManager scratch) {
    List<NDArray> grads = new ArrayList<>(parameters.size());
    for (Parameter p : parameters) {
      NDArray g = p.getArray().getGradient();
      g.attach(scratch); // the wrapper dies with the micro-step (djl-notes 5)
      grads.add(g);
    }
    return grads;
  }

  /**
   * Steps the optimizer with the window's gradient. A window whose every sample was skipped leaves
   * the weights and the optimizer's moments untouched (AdamW would still move the weights on a zero
   * gradient), while the schedule and the loss weights move on.
   */
  private void optimizerStep() {
    if (contributionsInWindow == 0) {
      LOG.warn("every sample of this window was skipped; no optimizer step");
      clearWindow();
    } else {
      applyWindow();
    }
    contributionsInWindow = 0;
    ParameterGradients.zero(parameters);
    accumulation.completeOptimizerStep();
    weighting.update();
  }

  private void clearWindow() {
    for (NDArray w : window) {
      GradientWriter.fill(w, 0);
    }
  }

  private void applyWindow() {
    try (NDManager scratch = manager.newSubManager()) {
      List<NDArray> grads = gradients(scratch);
      for (int i = 0; i < parameters.size(); i++) {
        if (!window.isEmpty()) {
          grads.get(i).addi(window.get(i)); // the gradients are zero between micro-steps
        }
        Parameter p = parameters.get(i);
        optimizer.update(p.getId(), p.getArray(), grads.get(i));
      }
    }
    clearWindow();
  }

  /** The window's accumulated gradient of parameter {@code param} (accumulation > 1; tests). */
  NDArray windowGradient(int param) {
    return window.get(param);
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
    if (restoredCheckpoint != null) {
      restoredCheckpoint.closeArrays();
    }
    pool.close();
    manager.close();
    if (teachers != null) {
      teachers.close();
    }
  }

  /** Configures a {@link DistillationTrainer}. */
  public static final class Builder {
    private VisionLanguageModel student;
    private BatchEncoder encoder;
    private TeacherTargets teachers;
    private DistillationRecipe recipe = DistillationRecipe.paper();
    private MixingMatrix mixing = MixingMatrix.paperDefault();
    private LossWeighting weighting;
    private GradientProjection projection = GradientProjection.agp();
    private LrSchedule schedule = LrSchedule.constant(5e-5);
    private double weightDecay;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double epsilon = 1e-8;
    private int accumulation = 4;
    private int epochs = 1;
    private int microBatch = 1;
    private Boolean prefetch;
    private boolean shuffle = true;
    private long seed = 42;
    private boolean freezeVision;
    private final List<TrainingListener> trainingListeners = new ArrayList<>();
    private CheckpointStore checkpoints;
    private int checkpointEvery;
    private boolean resume;
    private final List<Consumer<MicroStepReport>> listeners = new ArrayList<>();

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

    /** Seeds the data order and the projection's stage-2 order (default 42). */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Freezes the student's vision encoder and projector before training (default false). */
    public Builder optFreezeVision(boolean freezeVision) {
      this.freezeVision = freezeVision;
      return this;
    }

    /** Called at the begin and end of training, after every optimizer step and epoch. */
    public Builder addTrainingListener(TrainingListener listener) {
      this.trainingListeners.add(Objects.requireNonNull(listener));
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

    /** Called after every micro-step. */
    public Builder addListener(Consumer<MicroStepReport> listener) {
      this.listeners.add(Objects.requireNonNull(listener));
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
