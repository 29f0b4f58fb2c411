package dev.drivekd.core.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.schedule.AccumulationSchedule;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.ShuffleRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A miniature training loop with every stateful piece a checkpoint holds: two parameters stepped by
 * {@link PyTorchAdamW} on a cosine schedule, dynamic loss weights, accumulation over 3 micro-steps,
 * a {@link ShuffleRandom} drawing the "gradient noise" and the epoch order. The gradients depend on
 * the weights and on every random draw, so any state lost in a checkpoint changes the weights.
 */
final class TinyRun {
  static final int SAMPLES = 7;
  static final int ACCUMULATION = 3;

  final NDManager manager;
  final List<Pair<String, Parameter>> params = new ArrayList<>();
  PyTorchAdamW adam = optimizer();
  LossWeighting weighting = LossWeighting.dynamic(TaskKeys.defaultStaticWeights());
  AccumulationSchedule schedule = new AccumulationSchedule(ACCUMULATION);
  ShuffleRandom shuffle = new ShuffleRandom(42);
  List<Integer> order;
  long epoch = -1;

  TinyRun(NDManager manager) {
    this.manager = manager;
    Random random = new Random(5);
    float[] w = new float[12];
    float[] b = new float[4];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) random.nextGaussian();
    }
    add("layer.weight", manager.create(w, new Shape(3, 4)));
    add("layer.bias", manager.create(b, new Shape(4)));
  }

  private void add(String name, NDArray array) {
    params.add(
        new Pair<>(
            name,
            Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optArray(array)
                .build()));
  }

  static PyTorchAdamW optimizer() {
    return PyTorchAdamW.builder()
        .optLearningRate(LrSchedule.cosine(0.05, 12, 2, 0.1))
        .optWeightDecay(0.01)
        .build();
  }

  /** One micro-step: a new epoch (and order) when the last one ended; a step at a boundary. */
  void microStep() {
    if (epoch < 0 || schedule.exportState().positionInEpoch() == SAMPLES) {
      schedule.beginEpoch(SAMPLES);
      epoch = schedule.epoch();
      List<Integer> indices = new ArrayList<>();
      for (int i = 0; i < SAMPLES; i++) {
        indices.add(i);
      }
      order = shuffle.shuffled(indices);
    }
    AccumulationSchedule.MicroStep m = schedule.nextMicroStep();
    int sample = order.get(m.indexInEpoch());
    Map<String, Double> losses = new LinkedHashMap<>();
    Map<String, Double> norms = new LinkedHashMap<>();
    for (String key : weighting.activeKeys()) {
      double noise = (shuffle.nextLong() >>> 11) * 0x1.0p-53;
      losses.put(key, 0.5 + sample * 0.1 + noise);
      norms.put(key, 0.2 + noise * (key.equals(TaskKeys.CE) ? 3 : 0.5));
    }
    weighting.accumulate(losses, norms);
    if (m.stepAfter()) {
      float scale = weighting.weight(TaskKeys.CE);
      for (Pair<String, Parameter> p : params) {
        NDArray w = p.getValue().getArray();
        try (NDManager step = manager.newSubManager()) {
          NDArray g = w.mul(0.3f * scale).sub((float) ((shuffle.nextLong() >>> 40) * 0x1.0p-24));
          g.attach(step);
          adam.update(p.getValue().getId(), w, g);
        }
      }
      schedule.completeOptimizerStep();
      weighting.update();
    }
  }

  StepCounters counters() {
    AccumulationSchedule.State s = schedule.exportState();
    return new StepCounters(
        Math.max(0, s.epoch()), s.microSteps(), s.optimizerSteps(), s.positionInEpoch());
  }

  Checkpoint checkpoint(NDManager exportManager) {
    ObjectNode recipe = new ObjectMapper().createObjectNode();
    recipe.put("student", "tiny").put("lr", 0.05).put("accumulation", ACCUMULATION);
    recipe.putArray("signals").add("p:first_att_Atv").add("r:intermediate");
    RunProvenance provenance =
        new RunProvenance(
            recipe,
            Map.of("data-order", 42L),
            Map.of("drivekd", "test"),
            Map.of("data.json", "00"),
            "00",
            "2026-01-01T00:00:00Z");
    return Checkpoint.builder()
        .setCounters(counters())
        .setStudentWeights(StudentWeights.of(params))
        .setProvenance(provenance)
        .optOptimizer(adam.exportState(exportManager, params))
        .optLossWeighting(weighting.exportState())
        .optAccumulation(schedule.exportState())
        .optRandomStates(
            RandomStates.empty()
                .withLongs("agp-stage2", shuffle.state())
                .withLongs("epoch-order", order.stream().mapToLong(Integer::longValue).toArray()))
        .build();
  }

  /** Restores every piece from a loaded checkpoint (the weights are copied in). */
  void restore(Checkpoint c) {
    StudentWeights.copyInto(params, c.studentWeights(), "test checkpoint");
    adam = optimizer();
    adam.importState(c.optimizer().orElseThrow(), params);
    weighting = LossWeighting.fromState(c.lossWeighting().orElseThrow());
    schedule = AccumulationSchedule.fromState(c.accumulation().orElseThrow());
    epoch = schedule.epoch();
    shuffle.restore(c.randomStates().longState("agp-stage2"));
    order = new ArrayList<>();
    for (long i : c.randomStates().longs("epoch-order").orElseThrow()) {
      order.add((int) i);
    }
  }

  float[][] weights() {
    float[][] out = new float[params.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = params.get(i).getValue().getArray().toFloatArray();
    }
    return out;
  }
}
