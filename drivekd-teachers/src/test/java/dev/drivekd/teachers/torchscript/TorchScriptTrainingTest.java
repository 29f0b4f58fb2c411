package dev.drivekd.teachers.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Frozen teachers record nothing; a trainable student learns from Java and leaks nothing. */
class TorchScriptTrainingTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @Test
  void frozenModelHasNoTrainableParameterAndYieldsNoGradient() {
    try (TorchScriptVlm teacher = TorchScriptVlm.load(Fixture.model(Fixture.TINY), false);
        NDManager step = manager.newSubManager()) {
      assertTrue(teacher.trainableParameters().isEmpty());
      assertEquals(77, teacher.parameters().size());
      for (Parameter parameter : teacher.parameters()) {
        assertFalse(parameter.requiresGradient(), parameter.getName());
        assertFalse(parameter.getArray().hasGradient(), parameter.getName());
      }
      VlmBatch batch = Fixture.batch(step);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        // Even in training mode inside a collector, nothing of a frozen model is in a graph.
        ModelOutput out = teacher.forward(batch, ForwardRequest.attentionOf(0), true);
        assertNotInGraph(collector, out.logits());
        assertNotInGraph(collector, out.headAveraged().get(0));
      }
      for (Parameter parameter : teacher.parameters()) {
        assertThrows(IllegalStateException.class, () -> parameter.getArray().getGradient());
      }
      IllegalStateException unfreeze =
          assertThrows(IllegalStateException.class, () -> teacher.freeze(false));
      assertTrue(
          unfreeze.getMessage().contains("model.pt was loaded frozen"), unfreeze.getMessage());
    }
  }

  @Test
  void trainingFlagRecordsGradientsOnlyWhenTrueInAnyOrder() {
    // No load-time check: the very first run is with gradients, then one without, then with again
    // (with libtorch's graph optimiser on, the run without gradients failed in this order).
    try (TorchScriptVlm student =
            TorchScriptVlm.builder()
                .setModelFile(Fixture.model(Fixture.TINY))
                .optTrainable(true)
                .optVerify(false)
                .build();
        NDManager step = manager.newSubManager()) {
      List<Parameter> parameters = student.trainableParameters();
      assertEquals(77, parameters.size());
      VlmBatch batch = Fixture.batch(step);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput train = student.forward(batch, ForwardRequest.attentionOf(1), true);
        collector.backward(train.headAveraged().get(1).square().sum());
      }
      // The layer-1 map reaches layers 0 and 1 and the vision tower, not layer 2 or the LM head.
      assertTrue(gradientNorm(parameters, "layers.1.self_attn.q_proj.weight") > 0);
      assertTrue(gradientNorm(parameters, "layers.0.gate_proj.weight") > 0);
      assertTrue(gradientNorm(parameters, "vision_model.patch_embedding.weight") > 0);
      assertEquals(0.0, gradientNorm(parameters, "layers.1.gate_proj.weight"));
      assertEquals(0.0, gradientNorm(parameters, "layers.2.self_attn.q_proj.weight"));
      assertEquals(0.0, gradientNorm(parameters, "lm_head.weight"));
      Fixture.zeroGradients(parameters);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput eval = student.forward(batch, ForwardRequest.attentionOf(1), false);
        assertNotInGraph(collector, eval.logits());
        assertNotInGraph(collector, eval.headAveraged().get(1));
        ModelOutput again = student.forward(batch, ForwardRequest.attentionOf(1), true);
        collector.backward(again.logits().sum());
      }
      assertTrue(gradientNorm(parameters, "lm_head.weight") > 0);
      Fixture.zeroGradients(parameters);
    }
  }

  @Test
  void freezeTogglesEveryParameterOfATrainableModel() {
    try (TorchScriptVlm model = TorchScriptVlm.load(Fixture.model(Fixture.TINY), true);
        NDManager step = manager.newSubManager()) {
      model.freeze(true);
      assertTrue(model.trainableParameters().isEmpty());
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput out = model.forward(Fixture.batch(step), ForwardRequest.logitsOnly(), true);
        assertNotInGraph(collector, out.logits());
      }
      model.freeze(false);
      assertEquals(model.parameters().size(), model.trainableParameters().size());
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput out = model.forward(Fixture.batch(step), ForwardRequest.logitsOnly(), true);
        collector.backward(out.logits().sum());
      }
      assertTrue(gradientNorm(model.trainableParameters(), "lm_head.weight") > 0);
      Fixture.zeroGradients(model.trainableParameters());
    }
  }

  @Test
  void trainingFlagSwitchesDropoutOnAndOff() {
    // tiny-dropout was saved after eval(); its embedding dropout (p = 0.1) acts only in train().
    try (TorchScriptVlm model = TorchScriptVlm.load(Fixture.model(Fixture.DROPOUT), false);
        NDManager step = manager.newSubManager()) {
      VlmBatch batch = Fixture.batch(step);
      float[] train1 = logits(model, batch, true);
      float[] train2 = logits(model, batch, true);
      float[] eval1 = logits(model, batch, false);
      float[] eval2 = logits(model, batch, false);
      float[] train3 = logits(model, batch, true);
      assertFalse(Arrays.equals(train1, train2), "dropout must act in training mode");
      assertFalse(Arrays.equals(eval1, train3));
      assertTrue(Arrays.equals(eval1, eval2), "eval mode is deterministic");
    }
  }

  @Test
  void adamWStepsLowerTheLossAndKeepArrayCountsFlat() {
    try (TorchScriptVlm student = TorchScriptVlm.load(Fixture.model(Fixture.TINY), true)) {
      List<Parameter> parameters = student.trainableParameters();
      NDManager modelManager = parameters.get(0).getArray().getManager();
      NDManager system = modelManager.getParentManager(); // the engine's system manager
      Optimizer adamW =
          Optimizer.adamW()
              .optLearningRateTracker(Tracker.fixed(1e-2f))
              .optWeightDecays(0.01f)
              .build();
      CapabilitySignalLoss planning = CapabilitySignalLoss.planning();
      NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();
      int steps = 15;
      List<Float> losses = new ArrayList<>();
      List<Float> attentionLosses = new ArrayList<>();
      int[] modelArrays = new int[steps];
      int[] allArrays = new int[steps];
      float[] before = parameters.get(5).getArray().toFloatArray();
      for (int s = 0; s < steps; s++) {
        try (NDManager step = manager.newSubManager()) {
          VlmBatch batch = Fixture.batch(step);
          NDArray target = uniformCausal(step, batch.layout());
          LayerMaps teacher = LayerMaps.of(3, layer -> target);
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(-2), true);
            NDArray ce = crossEntropy.evaluate(out.logits(), batch.layout().labels(step));
            NDArray attention = planning.evaluate(out.attention(), teacher, batch.layout());
            NDArray loss = ce.add(Scalars.mul(attention, 100)); // a constant GC cannot free
            collector.backward(loss);
            losses.add(loss.getFloat());
            attentionLosses.add(attention.getFloat());
          }
          for (Parameter parameter : parameters) {
            NDArray weight = parameter.getArray();
            try (NDArray gradient = weight.getGradient()) {
              adamW.update(parameter.getId(), weight, gradient);
              gradient.subi(gradient);
            }
          }
        }
        modelArrays[s] = modelManager.getManagedArrays().size();
        allArrays[s] = system.getManagedArrays().size();
      }
      float first = losses.get(0);
      float last = losses.get(steps - 1);
      assertTrue(last < 0.5f * first, "loss should fall: " + losses);
      assertTrue(
          attentionLosses.get(steps - 1) < attentionLosses.get(0),
          "attention loss should fall: " + attentionLosses);
      int rises = 0;
      for (int s = 1; s < steps; s++) {
        rises += losses.get(s) > losses.get(s - 1) ? 1 : 0;
      }
      assertTrue(rises <= 3, "loss should fall almost every step: " + losses);
      assertNotEquals(
          Arrays.toString(before), Arrays.toString(parameters.get(5).getArray().toFloatArray()));
      // Adam's state is created in the first step; after it nothing accumulates anywhere.
      for (int s = 1; s < steps; s++) {
        assertEquals(
            modelArrays[0], modelArrays[s], "model arrays " + Arrays.toString(modelArrays));
        assertEquals(allArrays[0], allArrays[s], "all arrays " + Arrays.toString(allArrays));
      }
      assertEquals(0, manager.getManagedArrays().size());
    }
  }

  private static float[] logits(TorchScriptVlm model, VlmBatch batch, boolean training) {
    ModelOutput out = model.forward(batch, ForwardRequest.logitsOnly(), training);
    try (NDArray logits = out.logits()) {
      return logits.toFloatArray();
    }
  }

  /** Each valid row attends uniformly to its valid keys {@code j <= i}. */
  private static NDArray uniformCausal(NDManager manager, TokenLayout layout) {
    int n = layout.paddedLength();
    float[] data = new float[layout.batchSize() * n * n];
    for (int b = 0; b < layout.batchSize(); b++) {
      for (int i = 0; i < layout.length(b); i++) {
        for (int j = 0; j <= i; j++) {
          data[(b * n + i) * n + j] = 1f / (i + 1);
        }
      }
    }
    return manager.create(data, new Shape(layout.batchSize(), n, n));
  }

  /**
   * Backward from {@code array} must fail: it is in no graph. (DJL's {@code hasGradient()} cannot
   * tell: it returned false for TorchScript outputs that do have a grad_fn.)
   */
  private static void assertNotInGraph(GradientCollector collector, NDArray array) {
    assertThrows(EngineException.class, () -> collector.backward(array.sum()));
  }

  private static double gradientNorm(List<Parameter> parameters, String name) {
    try (NDArray gradient = Fixture.parameter(parameters, name).getArray().getGradient()) {
      if (gradient == null) {
        return 0.0;
      }
      try (NDArray norm = gradient.norm()) {
        return norm.getFloat();
      }
    }
  }
}
