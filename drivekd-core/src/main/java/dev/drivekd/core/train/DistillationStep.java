package dev.drivekd.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.gradproj.CombinedGradient;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.gradproj.GradientWriter;
import dev.drivekd.gradproj.NonFiniteGradientException;
import dev.drivekd.gradproj.TaskGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One Drive-KD micro-step on one sample (method.md 9): the student's forward with the recipe's
 * layers, the teachers' targets, one loss per task, one backward per task through the retained
 * graph, the projection of the weighted task gradients, and the result added into the window's
 * gradient. The optimizer step is the trainer's.
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
  private final NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();

  DistillationStep(
      VisionLanguageModel student,
      List<Parameter> parameters,
      BatchEncoder encoder,
      TeacherTargets teachers,
      DistillationRecipe recipe,
      MixingMatrix mixing,
      LossWeighting weighting,
      GradientProjection projection,
      TaskGradientPool pool) {
    this.student = student;
    this.parameters = parameters;
    this.encoder = encoder;
    this.teachers = teachers;
    this.recipe = recipe;
    this.mixing = mixing;
    this.weighting = weighting;
    this.projection = projection;
    this.pool = pool;
  }

  /** The result of one micro-step before the trainer adds its bookkeeping. */
  record Outcome(
      Map<String, Float> losses,
      Map<String, Float> taskWeights,
      Map<String, Double> norms,
      dev.drivekd.gradproj.ProjectionReport projection,
      String skipped) {}

  /**
   * Trains on one sample: adds the combined gradient (scaled by {@code lossScale}) into {@code
   * window}, one array per parameter, unless a loss or gradient is not finite.
   */
  Outcome run(
      NDManager step,
      int sampleIndex,
      DrivingSample sample,
      double lossScale,
      List<NDArray> window) {
    Capability q = sample.capability();
    List<Capability> active = activeTeachers(q);
    List<String> tasks = new ArrayList<>();
    tasks.add(TaskKeys.CE);
    active.forEach(c -> tasks.add(TaskKeys.of(c)));

    VlmBatch batch = encoder.encodeSamples(step, List.of(sample), BatchEncoder.PromptMode.TRAINING);
    Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
    SortedSet<Integer> studentLayers = new TreeSet<>();
    int studentDepth = student.card().depth();
    for (Capability c : active) {
      int teacherDepth = teachers.card(c).depth();
      teacherLayers.put(c, recipe.teacherLayers(c, studentDepth, teacherDepth));
      studentLayers.addAll(recipe.studentLayers(c, studentDepth, teacherDepth));
    }
    // teachers run before the collector opens: they build no graph
    Map<Capability, LayerMaps> targets =
        active.isEmpty() ? Map.of() : teachers.targets(sampleIndex, sample, batch, teacherLayers);

    requireSameLength(targets, teacherLayers, batch, sample);
    TaskGradients g = pool.forTasks(tasks);
    float[] raw;
    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
      ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(studentLayers), true);
      List<NDArray> losses = new ArrayList<>();
      losses.add(crossEntropy.evaluate(out.logits(), batch.layout().labels(step)));
      for (Capability c : active) {
        losses.add(recipe.loss(c).evaluate(out.attention(), targets.get(c), batch.layout()));
      }
      raw = NDArrays.stack(new NDList(losses)).toFloatArray();
      Map<String, Float> lossValues = named(tasks, raw);
      for (float v : raw) {
        if (!Float.isFinite(v)) {
          return skipped(lossValues, "non-finite loss " + lossValues);
        }
      }
      for (int k = 0; k < tasks.size(); k++) {
        GradientWriter.zero(parameters);
        NDArray scaled = losses.get(k).mul((float) lossScale);
        boolean keepGraph = k < tasks.size() - 1;
        JniUtils.backward((PtNDArray) scaled, (PtNDArray) scaled.onesLike(), keepGraph, false);
        GradientWriter.snapshot(g, tasks.get(k), parameters, allReached());
      }
      GradientWriter.zero(parameters);
    }
    GradientSupport.markUnreached(g, step);
    Map<String, Float> weights = mixing.taskWeights(q, weighting);
    for (String task : tasks) {
      g.weight(task, weights.get(task));
    }
    Map<String, Float> lossValues = named(tasks, raw);
    double[] n = g.norms();
    Map<String, Double> norms = new LinkedHashMap<>();
    for (int k = 0; k < tasks.size(); k++) {
      norms.put(tasks.get(k), n[k]);
    }
    try (CombinedGradient combined = projection.combine(g)) {
      combined.addAllTo(window);
      weighting.accumulate(lossValues, norms);
      return new Outcome(lossValues, weights, norms, combined.report(), null);
    } catch (NonFiniteGradientException e) {
      return skipped(lossValues, e.getMessage());
    }
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

  private boolean[] allReached() {
    boolean[] reached = new boolean[parameters.size()];
    Arrays.fill(reached, true);
    return reached;
  }

  private static Map<String, Float> named(List<String> tasks, float[] values) {
    Map<String, Float> m = new LinkedHashMap<>();
    for (int k = 0; k < tasks.size(); k++) {
      m.put(tasks.get(k), values[k]);
    }
    return m;
  }

  private Outcome skipped(Map<String, Float> losses, String why) {
    GradientWriter.zero(parameters);
    return new Outcome(losses, Map.of(), Map.of(), null, why);
  }
}
