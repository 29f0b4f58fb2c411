package dev.drivekd.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ParameterGradients;
import dev.drivekd.core.engine.Scalars;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.GradientWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A benchmark-only training loop with the trainer's forward and losses (paper recipe, paper mixing,
 * static loss weights 1, accumulation window, AdamW) but the weighted task losses summed into one
 * loss and backpropagated <b>once</b>: the cheapest multi-teacher step without projection, the
 * floor against which the trainer's one-backward-per-task step is compared. Not a trainer: no
 * guards, no dynamic weights, no checkpoints.
 */
final class SumOnceTrainer {
  private final InternVlModel student;
  private final BatchEncoder encoder;
  private final TeacherTargets teachers;
  private final int accumulation;
  private final DistillationRecipe recipe = DistillationRecipe.paper();
  private final MixingMatrix mixing = MixingMatrix.paperDefault();
  private final LossWeighting weighting =
      LossWeighting.staticWeights(TaskKeys.defaultStaticWeights());
  private final NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();
  private final PyTorchAdamW optimizer =
      PyTorchAdamW.builder().optLearningRate(LrSchedule.constant(5e-5)).build();

  SumOnceTrainer(
      InternVlModel student, BatchEncoder encoder, TeacherTargets teachers, int accumulation) {
    this.student = student;
    this.encoder = encoder;
    this.teachers = teachers;
    this.accumulation = accumulation;
  }

  /** Trains one epoch over {@code dataset} in order; returns the seconds it took. */
  double epoch(DrivingDataset dataset) {
    List<Parameter> parameters = student.trainableParameters();
    long t0 = System.nanoTime();
    try (NDManager base = NDManager.newBaseManager(student.device())) {
      List<NDArray> window = new ArrayList<>();
      for (Parameter p : parameters) {
        window.add(base.zeros(p.getArray().getShape(), p.getArray().getDataType()));
      }
      int inWindow = 0;
      for (int i = 0; i < dataset.size(); i++) {
        step(base, i, dataset.get(i), parameters, window);
        if (++inWindow == accumulation || i == dataset.size() - 1) {
          for (int j = 0; j < parameters.size(); j++) {
            Parameter p = parameters.get(j);
            optimizer.update(p.getId(), p.getArray(), window.get(j));
            GradientWriter.fill(window.get(j), 0);
          }
          inWindow = 0;
        }
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private void step(
      NDManager base,
      int index,
      DrivingSample sample,
      List<Parameter> parameters,
      List<NDArray> window) {
    try (NDManager m = base.newSubManager()) {
      VlmBatch batch = encoder.encodeSamples(m, List.of(sample), BatchEncoder.PromptMode.TRAINING);
      List<Capability> active =
          mixing.activeTeachers(sample.capability(), weighting.staticWeights());
      Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
      SortedSet<Integer> studentLayers = new TreeSet<>();
      int depth = student.card().depth();
      for (Capability c : active) {
        int teacherDepth = teachers.card(c).depth();
        teacherLayers.put(c, recipe.teacherLayers(c, depth, teacherDepth));
        studentLayers.addAll(recipe.studentLayers(c, depth, teacherDepth));
      }
      Map<Capability, LayerMaps> targets = teachers.targets(index, sample, batch, teacherLayers);
      Map<String, Float> w = mixing.taskWeights(sample.capability(), weighting);
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(studentLayers), true);
        NDArray total =
            Scalars.mul(
                crossEntropy.evaluate(out.logits(), batch.layout().labels(m)), w.get(TaskKeys.CE));
        for (Capability c : active) {
          NDArray soft = recipe.loss(c).evaluate(out.attention(), targets.get(c), batch.layout());
          total = total.add(Scalars.mul(soft, w.get(TaskKeys.of(c))));
        }
        if (!Float.isFinite(total.getFloat())) { // one host read, as the trainer's
          throw new IllegalStateException("non-finite loss on sample " + index);
        }
        collector.backward(Scalars.div(total, accumulation));
        for (int j = 0; j < parameters.size(); j++) {
          try (NDArray grad = parameters.get(j).getArray().getGradient()) {
            window.get(j).addi(grad);
          }
        }
        ParameterGradients.zero(parameters); // as the trainer zeroes them
      }
    }
  }
}
