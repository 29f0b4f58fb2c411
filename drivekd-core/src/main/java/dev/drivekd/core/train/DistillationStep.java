package dev.drivekd.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.HostData;
import dev.drivekd.core.engine.ParameterGradients;
import dev.drivekd.core.engine.Scalars;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.listener.CoefficientReuseReport;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.CombinedGradient;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.gradproj.GradientWriter;
import dev.drivekd.gradproj.LossCoefficients;
import dev.drivekd.gradproj.NonFiniteGradientException;
import dev.drivekd.gradproj.ProjectionReport;
import dev.drivekd.gradproj.TaskGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One Drive-KD micro-step (method.md 9) on one sample, or on a micro-batch: the student's forward
 * with the recipe's layers, the teachers' targets, one loss per task, one backward per task through
 * the retained graph, the projection of the weighted task gradients, and the result added into the
 * window's gradient. The optimizer step is the trainer's.
 */
final class DistillationStep {

  private final VisionLanguageModel student;
  private final List<Parameter> parameters;
  private final BatchEncoder encoder;
  private final TeacherTargets teachers;
  private final DistillationRecipe recipe;
  private final MixingMatrix mixing;
  private final LossWeighting weighting;
  private final GradientProjection projection;
  private final TaskGradientPool pool;
  private final PhaseClock clock;
  private final CoefficientReuse reuse;
  private final NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();

  /** Every parameter, for snapshots: unreached ones are found after the backward (zero rows). */
  private final boolean[] allReached;

  DistillationStep(
      VisionLanguageModel student,
      List<Parameter> parameters,
      BatchEncoder encoder,
      TeacherTargets teachers,
      DistillationRecipe recipe,
      MixingMatrix mixing,
      LossWeighting weighting,
      GradientProjection projection,
      TaskGradientPool pool,
      PhaseClock clock,
      CoefficientReuse reuse) {
    this.student = student;
    this.parameters = parameters;
    this.encoder = encoder;
    this.teachers = teachers;
    this.recipe = recipe;
    this.mixing = mixing;
    this.weighting = weighting;
    this.projection = projection;
    this.pool = pool;
    this.clock = clock;
    this.reuse = reuse;
    this.allReached = new boolean[parameters.size()];
    Arrays.fill(allReached, true);
  }

  /** The result of one micro-step before the trainer adds its bookkeeping. */
  record Outcome(
      Map<String, Float> losses,
      Map<String, Float> taskWeights,
      Map<String, Double> norms,
      ProjectionReport projection,
      String skipped,
      CoefficientReuseReport reuse) {}

  /**
   * What a micro-step needs before the student runs: the encoded batch and the teachers' targets.
   * Preparing touches neither the student nor the optimizer, so the trainer prepares the next
   * micro-step on another thread while this one trains ({@link InputPrefetcher}).
   *
   * @param manager owns every array of the prepared inputs; closed by whoever consumes them
   */
  record Prepared(
      NDManager manager,
      List<Integer> indices,
      List<DrivingSample> samples,
      List<Capability> active,
      List<String> tasks,
      VlmBatch batch,
      SortedSet<Integer> studentLayers,
      Map<Capability, LayerMaps> targets,
      float[][] mix)
      implements AutoCloseable {

    @Override
    public void close() {
      manager.close();
    }
  }

  /**
   * Encodes a micro-batch and runs (or reads) its teachers into {@code manager}. On failure the
   * manager is closed.
   */
  Prepared prepare(NDManager manager, List<Integer> indices, List<DrivingSample> samples) {
    try {
      return prepareInto(manager, indices, samples);
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
  }

  private Prepared prepareInto(NDManager step, List<Integer> indices, List<DrivingSample> samples) {
    int size = samples.size();
    List<List<Capability>> activePerSample = new ArrayList<>();
    Set<Capability> union = EnumSet.noneOf(Capability.class);
    for (DrivingSample sample : samples) {
      List<Capability> active = activeTeachers(sample.capability());
      activePerSample.add(active);
      union.addAll(active);
    }
    List<Capability> active = List.copyOf(union);
    List<String> tasks = new ArrayList<>();
    tasks.add(TaskKeys.CE);
    active.forEach(c -> tasks.add(TaskKeys.of(c)));

    VlmBatch batch = encoder.encodeSamples(step, samples, BatchEncoder.PromptMode.TRAINING);
    Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
    SortedSet<Integer> studentLayers = new TreeSet<>();
    int studentDepth = student.card().depth();
    for (Capability c : active) {
      int teacherDepth = teachers.card(c).depth();
      teacherLayers.put(c, recipe.teacherLayers(c, studentDepth, teacherDepth));
      studentLayers.addAll(recipe.studentLayers(c, studentDepth, teacherDepth));
    }
    // teachers run outside the student's gradient collector: they build no graph
    Map<Capability, LayerMaps> targets;
    if (active.isEmpty()) {
      targets = Map.of();
    } else if (size == 1) {
      targets = teachers.targets(indices.get(0), samples.get(0), batch, teacherLayers);
      requireSameLength(targets, teacherLayers, batch, samples.get(0));
    } else {
      targets = batchedTargets(step, indices, samples, activePerSample, teacherLayers, batch);
    }
    float[][] mix = mixPerSample(samples, activePerSample, active);
    return new Prepared(
        step,
        List.copyOf(indices),
        List.copyOf(samples),
        active,
        List.copyOf(tasks),
        batch,
        studentLayers,
        targets,
        mix);
  }

  /**
   * Trains on one prepared micro-batch: adds the combined gradient (scaled by {@code lossScale})
   * into {@code window}, unless a loss or gradient is not finite.
   *
   * <p>One sample is the reference's micro-step: each teacher's task gradient is weighted by {@code
   * w_k} times the sample's mixing entry. With several samples (a drivekd extension) the mixing
   * entries weight each sample's soft loss inside the task loss instead, {@code L_k =
   * mean_b(mix[q_b][k] * L_k,b)}, since one gradient per task serves the whole micro-batch.
   *
   * @param step the micro-step's scratch manager (the graph, the losses)
   */
  Outcome run(NDManager step, Prepared in, double lossScale, GradientWindow window) {
    List<DrivingSample> samples = in.samples();
    int size = samples.size();
    List<Capability> active = in.active();
    List<String> tasks = in.tasks();
    VlmBatch batch = in.batch();
    SortedSet<Integer> studentLayers = in.studentLayers();
    Map<Capability, LayerMaps> targets = in.targets();
    float[][] mix = in.mix();

    Map<String, Float> weights =
        size == 1
            ? mixing.taskWeights(samples.get(0).capability(), weighting)
            : weighting.currentWeights();
    Map<String, Float> taskWeights = new LinkedHashMap<>();
    for (String task : tasks) {
      taskWeights.put(task, weights.get(task));
    }
    String kind =
        reuse.enabled()
            ? CoefficientReuse.kindOf(tasks, size == 1 ? samples.get(0).capability().key() : null)
            : null;
    CoefficientReuse.Entry reusable = kind == null ? null : reuse.reusable(kind);

    TaskGradients g = reusable == null ? pool.forTasks(tasks) : null;
    Map<String, Float> lossValues;
    clock.start();
    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
      ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(studentLayers), true);
      clock.lap(StepPhase.FORWARD);
      List<NDArray> values = new ArrayList<>(); // [B] per task
      values.add(crossEntropy.perSample(out.logits(), batch.layout().labels(step)));
      for (Capability c : active) {
        values.add(recipe.loss(c).perSample(out.attention(), targets.get(c), batch.layout()));
      }
      float[] perSample = NDArrays.stack(new NDList(values)).toFloatArray(); // [K, B], one read
      lossValues = rawLosses(tasks, perSample, mix, size);
      if (!allFinite(perSample, mix, size)) {
        if (kind != null) {
          reuse.expire(kind);
        }
        return skipped(lossValues, "non-finite loss " + lossValues);
      }
      // every task loss exists before the first backward; constants the graph saves are
      // libtorch-owned (Scalars): a Java-buffer constant is freed by GC between the backwards
      List<NDArray> taskLosses = new ArrayList<>();
      for (int k = 0; k < tasks.size(); k++) {
        NDArray loss = taskLoss(values.get(k), k == 0 ? null : mix[k - 1], size, step);
        taskLosses.add(Scalars.mul(loss, lossScale));
      }
      clock.lap(StepPhase.LOSSES);
      if (reusable != null) {
        return reuseCoefficients(
            kind, reusable, tasks, taskLosses, weights, lossScale, window, lossValues, taskWeights);
      }
      for (int k = 0; k < tasks.size(); k++) {
        ParameterGradients.zero(parameters);
        NDArray scaled = taskLosses.get(k);
        boolean keepGraph = k < tasks.size() - 1;
        JniUtils.backward((PtNDArray) scaled, (PtNDArray) scaled.onesLike(), keepGraph, false);
        clock.lap(StepPhase.BACKWARDS);
        GradientWriter.snapshot(g, tasks.get(k), parameters, allReached);
        clock.lap(StepPhase.SNAPSHOTS);
      }
      ParameterGradients.zero(parameters);
    }
    clock.lap(StepPhase.BACKWARDS);
    g.markZeroRowsAbsent(); // tasks absent where their loss does not reach (method.md 4.6)
    for (String task : tasks) {
      g.weight(task, weights.get(task));
    }
    double[] n = g.norms();
    Map<String, Double> norms = new LinkedHashMap<>();
    for (int k = 0; k < tasks.size(); k++) {
      norms.put(tasks.get(k), n[k]);
    }
    try (CombinedGradient combined = projection.combine(g)) {
      window.add(combined);
      weighting.accumulate(lossValues, norms);
      CoefficientReuseReport reported =
          kind == null ? null : remember(kind, combined, tasks, weights, n, lossScale);
      return new Outcome(lossValues, taskWeights, norms, combined.report(), null, reported);
    } catch (NonFiniteGradientException e) {
      return skipped(lossValues, e.getMessage());
    } finally {
      clock.lap(StepPhase.COMBINE);
    }
  }

  /**
   * The amortised micro-step: one backward of {@code sum_k a_k L_k}, {@code a_k} being the kind's
   * multipliers relative to the weights times this micro-step's weights, added to the window where
   * the kind's last combine reached. The dynamic loss weights see the task gradient norms of that
   * combine (rescaled to this micro-step's loss scale): a single backward measures none.
   */
  private Outcome reuseCoefficients(
      String kind,
      CoefficientReuse.Entry entry,
      List<String> tasks,
      List<NDArray> taskLosses,
      Map<String, Float> weights,
      double lossScale,
      GradientWindow window,
      Map<String, Float> lossValues,
      Map<String, Float> taskWeights) {
    NDArray total = null;
    for (int k = 0; k < tasks.size(); k++) {
      NDArray term = Scalars.mul(taskLosses.get(k), entry.relative[k] * weights.get(tasks.get(k)));
      total = total == null ? term : total.add(term);
    }
    JniUtils.backward((PtNDArray) total, (PtNDArray) total.onesLike(), false, false);
    clock.lap(StepPhase.BACKWARDS);
    boolean added = window.addIfFinite(parameters, entry.reached);
    ParameterGradients.zero(parameters);
    clock.lap(StepPhase.COMBINE);
    if (!added) {
      reuse.expire(kind);
      return skipped(lossValues, "non-finite gradient of the reused-coefficient backward");
    }
    reuse.reused(entry);
    Map<String, Double> stale = new LinkedHashMap<>();
    for (int k = 0; k < tasks.size(); k++) {
      stale.put(tasks.get(k), entry.normsPerScale[k] * lossScale);
    }
    weighting.accumulate(lossValues, stale);
    ProjectionReport report =
        new ProjectionReport(projection.name(), List.of(), List.of(), List.of(), 0);
    return new Outcome(
        lossValues,
        taskWeights,
        Map.of(), // a single backward measures no task gradient norm
        report,
        null,
        new CoefficientReuseReport(true, entry.sinceRefresh - 1, entry.fitCosine, Double.NaN));
  }

  /** Stores a full combine's multipliers for its kind; measures the drift of the previous ones. */
  private CoefficientReuseReport remember(
      String kind,
      CombinedGradient combined,
      List<String> tasks,
      Map<String, Float> weights,
      double[] norms,
      double lossScale) {
    LossCoefficients fit = combined.lossCoefficients();
    CoefficientReuse.Entry previous = reuse.last(kind);
    double drift = Double.NaN;
    if (previous != null && previous.tasks.equals(tasks)) {
      double[] raw = new double[tasks.size()];
      for (int k = 0; k < raw.length; k++) {
        raw[k] = previous.relative[k] * weights.get(tasks.get(k));
      }
      drift = combined.cosineWith(raw);
    }
    boolean[] reached = new boolean[parameters.size()];
    for (int i = 0; i < reached.length; i++) {
      reached[i] = combined.isPresent(i);
    }
    reuse.refreshed(kind, fit, norms, lossScale, reached);
    return new CoefficientReuseReport(false, 0, fit.fitCosine(), drift);
  }

  /**
   * The per-task loss the backward pass uses: the value itself for one sample (mixing weights the
   * gradient), otherwise {@code sum_b mix_b * value_b / B}.
   */
  private static NDArray taskLoss(NDArray values, float[] mix, int size, NDManager step) {
    if (size == 1) {
      return values.mean();
    }
    if (mix == null) {
      return values.mean();
    }
    NDArray weights = HostData.owned(step.create(mix));
    return Scalars.div(values.mul(weights).sum(), size);
  }

  /** {@code mix[t][b]}: the mixing entry of teacher t for sample b, 0 where t is not active. */
  private float[][] mixPerSample(
      List<DrivingSample> samples,
      List<List<Capability>> activePerSample,
      List<Capability> active) {
    float[][] mix = new float[active.size()][samples.size()];
    for (int t = 0; t < active.size(); t++) {
      for (int b = 0; b < samples.size(); b++) {
        if (activePerSample.get(b).contains(active.get(t))) {
          mix[t][b] = (float) mixing.mix(samples.get(b).capability(), active.get(t));
        }
      }
    }
    return mix;
  }

  /** Raw (unmixed) task losses: per task, the mean over the samples it is active on. */
  private static Map<String, Float> rawLosses(
      List<String> tasks, float[] perSample, float[][] mix, int size) {
    Map<String, Float> m = new LinkedHashMap<>();
    for (int k = 0; k < tasks.size(); k++) {
      double sum = 0;
      int count = 0;
      for (int b = 0; b < size; b++) {
        if (k == 0 || mix[k - 1][b] > 0) {
          sum += perSample[k * size + b];
          count++;
        }
      }
      m.put(tasks.get(k), count == 0 ? Float.NaN : (float) (sum / count));
    }
    return m;
  }

  private static boolean allFinite(float[] perSample, float[][] mix, int size) {
    for (int k = 0; k * size < perSample.length; k++) {
      for (int b = 0; b < size; b++) {
        boolean counts = k == 0 || mix[k - 1][b] > 0;
        if (counts && !Float.isFinite(perSample[k * size + b])) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Teacher maps for a micro-batch: each sample's teachers run on that sample alone (as the
   * reference does), and the maps are zero-padded to the batch length and stacked; padded and
   * inactive rows are masked out by the layout or weighted 0 by the mixing.
   */
  private Map<Capability, LayerMaps> batchedTargets(
      NDManager step,
      List<Integer> indices,
      List<DrivingSample> samples,
      List<List<Capability>> activePerSample,
      Map<Capability, SortedSet<Integer>> teacherLayers,
      VlmBatch batch) {
    int size = samples.size();
    long length = batch.length();
    List<Map<Capability, LayerMaps>> perSample = new ArrayList<>();
    for (int b = 0; b < size; b++) {
      Map<Capability, SortedSet<Integer>> layers = new EnumMap<>(Capability.class);
      for (Capability c : activePerSample.get(b)) {
        layers.put(c, teacherLayers.get(c));
      }
      if (layers.isEmpty()) {
        perSample.add(Map.of());
        continue;
      }
      VlmBatch single =
          encoder.encodeSamples(step, List.of(samples.get(b)), BatchEncoder.PromptMode.TRAINING);
      Map<Capability, LayerMaps> maps =
          teachers.targets(indices.get(b), samples.get(b), single, layers);
      requireSameLength(maps, layers, single, samples.get(b));
      perSample.add(maps);
    }
    // stacked now, outside the losses' scopes, which close what is created inside them
    Map<Capability, LayerMaps> out = new EnumMap<>(Capability.class);
    for (Capability c : teacherLayers.keySet()) {
      Map<Integer, NDArray> stacked = new HashMap<>();
      for (int layer : teacherLayers.get(c)) {
        NDArray maps = step.zeros(new Shape(size, length, length));
        for (int b = 0; b < size; b++) {
          LayerMaps source = perSample.get(b).get(c);
          if (source != null) {
            NDArray map = source.headAveraged(layer);
            long n = map.getShape().get(2);
            maps.set(new NDIndex("{}, :{}, :{}", b, n, n), map.get(0));
          }
        }
        stacked.put(layer, maps);
      }
      out.put(
          c,
          LayerMaps.of(
              teachers.card(c).depth(),
              layer -> {
                NDArray maps = stacked.get(layer);
                if (maps == null) {
                  throw new IllegalStateException("teacher layer " + layer + " was not prepared");
                }
                return maps;
              }));
    }
    return out;
  }

  /** A teacher map of another length would broadcast or fail deep in a loss: stop here instead. */
  private void requireSameLength(
      Map<Capability, LayerMaps> targets,
      Map<Capability, SortedSet<Integer>> layers,
      VlmBatch batch,
      DrivingSample sample) {
    for (Map.Entry<Capability, LayerMaps> e : targets.entrySet()) {
      SortedSet<Integer> needed = layers.get(e.getKey());
      if (needed == null || needed.isEmpty()) {
        continue;
      }
      NDArray map = e.getValue().headAveraged(needed.first());
      long length = map.getShape().get(map.getShape().dimension() - 1);
      if (length != batch.length()) {
        throw new IllegalArgumentException(
            sample.sourceFile()
                + ": record "
                + sample.recordIndex()
                + ": the "
                + e.getKey().key()
                + " teacher "
                + teachers.card(e.getKey()).name()
                + " saw "
                + length
                + " tokens where student "
                + student.card().name()
                + " saw "
                + batch.length()
                + "; teacher and student must share tokenizer and tokens per image");
      }
    }
  }

  private List<Capability> activeTeachers(Capability q) {
    List<Capability> active = new ArrayList<>();
    for (Capability c : mixing.activeTeachers(q, weighting)) {
      if (recipe.loss(c) != null && teachers != null && teachers.capabilities().contains(c)) {
        active.add(c);
      }
    }
    return active;
  }

  private Outcome skipped(Map<String, Float> losses, String why) {
    ParameterGradients.zero(parameters);
    return new Outcome(losses, Map.of(), Map.of(), null, why, null);
  }
}
