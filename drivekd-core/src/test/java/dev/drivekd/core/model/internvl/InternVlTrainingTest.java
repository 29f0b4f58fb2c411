package dev.drivekd.core.model.internvl;

import static dev.drivekd.core.model.internvl.Samples.Segment.answer;
import static dev.drivekd.core.model.internvl.Samples.Segment.image;
import static dev.drivekd.core.model.internvl.Samples.Segment.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * AdamW on the answer-token cross-entropy of a fixed synthetic batch: the loss falls, and with a
 * sub-manager per step and closed gradient wrappers nothing accumulates in the model's manager.
 */
class InternVlTrainingTest {

  @Test
  void twentyAdamWStepsLowerTheLossWithoutLeaking() {
    InternVlConfig config = InternVlConfig.preset("student-tiny");
    int v = config.language().vocabSize();
    List<List<Samples.Segment>> samples =
        List.of(
            Samples.sample(text(Samples.ids(1, 4, v)), image(31), answer(Samples.ids(2, 6, v))),
            Samples.sample(text(Samples.ids(3, 3, v)), image(32), answer(Samples.ids(4, 4, v))));
    Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(3e-3f)).build();
    NextTokenCrossEntropy ce = NextTokenCrossEntropy.create();
    int steps = 20;
    float[] losses = new float[steps];
    int[] modelArrays = new int[steps];
    try (InternVlModel model = InternVlModel.create(config, Device.cpu(), 5)) {
      List<Parameter> parameters = model.trainableParameters();
      for (int step = 0; step < steps; step++) {
        try (NDManager stepManager = model.manager().newSubManager()) {
          VlmBatch batch = Samples.batch(stepManager, config, samples);
          NDArray loss;
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            ModelOutput out = model.forward(batch, ForwardRequest.attentionOf(0, -2), true);
            loss = ce.evaluate(out.logits(), out.layout().labels(stepManager));
            collector.backward(loss);
          }
          losses[step] = loss.getFloat();
          for (Parameter p : parameters) {
            try (NDArray gradient = p.getArray().getGradient()) {
              adamW.update(p.getId(), p.getArray(), gradient);
              gradient.subi(gradient);
            }
          }
        }
        modelArrays[step] = model.manager().getManagedArrays().size();
      }
      // only the parameters and the two rotary tables of this length (StepConstants): DJL
      // detaches the optimizer's moment buffers from every manager
      assertEquals(parameters.size() + 2, modelArrays[0]);
      for (int step = 1; step < steps; step++) {
        assertEquals(modelArrays[0], modelArrays[step], "model manager after step " + step);
      }
    }
    assertEquals(Math.log(v), losses[0], 0.3, "a fresh model is near uniform");
    assertTrue(losses[steps - 1] < 0.5 * losses[0], "loss should fall: " + Arrays.toString(losses));
    for (int step = 5; step < steps; step++) {
      assertTrue(losses[step] < losses[0], "step " + step + ": " + Arrays.toString(losses));
    }
  }
}
