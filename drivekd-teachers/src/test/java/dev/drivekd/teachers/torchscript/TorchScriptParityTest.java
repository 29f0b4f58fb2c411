package dev.drivekd.teachers.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.core.attention.LayerIndexException;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tiny TorchScript VLM gives, through DJL and libtorch 2.7, what torch 1.13 gave in Python. */
class TorchScriptParityTest {

  private static final double ATOL = 1e-5;

  private static TorchScriptVlm frozen;
  private static NDManager manager;

  @BeforeAll
  static void load() {
    frozen = TorchScriptVlm.load(Fixture.model(Fixture.TINY), false);
    manager = NDManager.newBaseManager(frozen.device());
  }

  @AfterAll
  static void close() {
    manager.close();
    frozen.close();
  }

  @Test
  void cardComesFromTheDescriptor() {
    assertEquals(
        new ModelCard("tiny-internvl", 3, 4, 32, 48, 4, 16, "drivekd-fixture-vocab-48"),
        frozen.card());
    assertEquals(Fixture.expected().get("parameter_tensors").asInt(), frozen.parameters().size());
    long count = frozen.parameters().stream().mapToLong(p -> p.getArray().size()).sum();
    assertEquals(Fixture.expected().get("parameter_count").asLong(), count);
  }

  @Test
  void logitsMapsAndHiddenStatesMatchPython() {
    JsonNode expected = Fixture.expected();
    try (NDManager step = manager.newSubManager()) {
      VlmBatch batch = Fixture.batch(step);
      ForwardRequest request =
          ForwardRequest.attentionOf(0, -1).withPerHeadMaps().withHiddenStates();
      ModelOutput out = frozen.forward(batch, request, false);

      Fixture.assertClose(expected.get("logits"), out.logits(), ATOL, 0, "logits");
      assertEquals(Set.of(0, 2), out.headAveraged().keySet());
      assertEquals(Set.of(0, 2), out.perHead().keySet());
      for (JsonNode map : expected.get("maps")) {
        int layer = map.get("layer").asInt();
        Fixture.assertClose(map, out.perHead().get(layer), ATOL, 0, "map of layer " + layer);
        NDArray average = Fixture.array(step, map).mean(new int[] {1});
        Fixture.assertClose(
            average.toFloatArray(),
            out.headAveraged().get(layer),
            ATOL,
            0,
            "head-averaged map of layer " + layer);
      }
      JsonNode hidden = expected.get("hidden_states");
      assertEquals(hidden.size(), out.hiddenStates().size());
      assertEquals(frozen.card().depth() + 1, out.hiddenStates().size());
      for (int i = 0; i < hidden.size(); i++) {
        Fixture.assertClose(hidden.get(i), out.hiddenStates().get(i), ATOL, 0, "hidden " + i);
      }
    }
  }

  @Test
  void textOnlyBatchPassesNoImage() {
    JsonNode expected = Fixture.expected().get("text_only");
    try (NDManager step = manager.newSubManager()) {
      VlmBatch batch = Fixture.textOnlyBatch(step);
      assertEquals(0, batch.imageCount());
      ModelOutput out =
          frozen.forward(batch, ForwardRequest.attentionOf(1).withPerHeadMaps(), false);
      Fixture.assertClose(expected.get("logits"), out.logits(), ATOL, 0, "text-only logits");
      Fixture.assertClose(
          expected.get("maps").get(0), out.perHead().get(1), ATOL, 0, "text-only map");
      assertTrue(out.hiddenStates().isEmpty());
    }
  }

  @Test
  void mapsAreRowStochasticCausalAndIgnorePaddedKeys() {
    try (NDManager step = manager.newSubManager()) {
      VlmBatch batch = Fixture.batch(step);
      ModelOutput out =
          frozen.forward(batch, ForwardRequest.attentionOf(0, 1, 2).withPerHeadMaps(), false);
      int length = batch.length();
      for (int layer = 0; layer < 3; layer++) {
        float[] maps = out.perHead().get(layer).toFloatArray();
        float[] averaged = out.headAveraged().get(layer).toFloatArray();
        int heads = frozen.card().heads();
        for (int b = 0; b < batch.batchSize(); b++) {
          int valid = batch.layout().length(b);
          for (int h = 0; h <= heads; h++) {
            // h == heads checks the head average
            float[] source = h == heads ? averaged : maps;
            int base = h == heads ? b * length * length : ((b * heads + h) * length) * length;
            for (int i = 0; i < length; i++) {
              double sum = 0;
              for (int j = 0; j < length; j++) {
                float p = source[base + i * length + j];
                sum += p;
                if (j > i || j >= valid) {
                  assertEquals(0f, p, "layer " + layer + " b" + b + " h" + h + " [" + i + "," + j);
                }
              }
              assertEquals(1.0, sum, 1e-5, "row sum, layer " + layer + " b" + b + " row " + i);
            }
          }
        }
      }
    }
  }

  @Test
  void onlyRequestedLayersComeBack() {
    try (NDManager step = manager.newSubManager()) {
      VlmBatch batch = Fixture.batch(step);
      ModelOutput one = frozen.forward(batch, ForwardRequest.attentionOf(-2), false);
      assertEquals(Set.of(1), one.headAveraged().keySet());
      assertTrue(one.perHead().isEmpty());
      assertTrue(one.hiddenStates().isEmpty());
      assertEquals(3, one.depth());
      IllegalStateException notAsked =
          assertThrows(IllegalStateException.class, () -> one.attention().headAveraged(0));
      assertTrue(notAsked.getMessage().contains("requested: [1]"), notAsked.getMessage());

      ModelOutput repeated = frozen.forward(batch, ForwardRequest.attentionOf(-1, 0, -3), false);
      assertEquals(Set.of(0, 2), repeated.headAveraged().keySet());

      ModelOutput none = frozen.forward(batch, ForwardRequest.logitsOnly(), false);
      assertTrue(none.headAveraged().isEmpty());
      assertEquals(new Shape(2, 12, 48), none.logits().getShape());
      // Same logits whichever layers are asked for.
      Fixture.assertClose(
          Fixture.expected().get("logits"), none.logits(), ATOL, 0, "logits-only forward");

      assertThrows(
          LayerIndexException.class,
          () -> frozen.forward(batch, ForwardRequest.attentionOf(3), false));
    }
  }

  @Test
  void gradientsThroughLogitsMapsAndVisionMatchPython() {
    JsonNode expected = Fixture.expected().get("gradients");
    try (TorchScriptVlm student = TorchScriptVlm.load(Fixture.model(Fixture.TINY), true);
        NDManager step = manager.newSubManager()) {
      List<Parameter> parameters = student.trainableParameters();
      Parameter probe = Fixture.parameter(parameters, expected.get("parameter").asText());
      Parameter vision = Fixture.parameter(parameters, expected.get("vision_parameter").asText());
      VlmBatch batch = Fixture.batch(step);
      ForwardRequest request = ForwardRequest.attentionOf(0, 2);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput out = student.forward(batch, request, true);
        NDArray ce =
            NextTokenCrossEntropy.create().evaluate(out.logits(), batch.layout().labels(step));
        assertEquals(expected.get("next_token_ce").asDouble(), ce.getFloat(), 1e-5);
        collector.backward(ce);
      }
      try (NDArray g = probe.getArray().getGradient();
          NDArray gv = vision.getArray().getGradient()) {
        Fixture.assertClose(
            Fixture.floats(expected.get("next_token_ce_grad")), g, 1e-6, 1e-4, "dCE/dq_proj");
        Fixture.assertClose(
            Fixture.floats(expected.get("vision_next_token_ce_grad")),
            gv,
            1e-6,
            1e-4,
            "dCE/dpatch_embedding");
      }
      Fixture.zeroGradients(parameters);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput out = student.forward(batch, request, true);
        NDArray mapLoss = out.headAveraged().get(0).square().sum();
        assertEquals(expected.get("layer0_map_square_sum").asDouble(), mapLoss.getFloat(), 1e-4);
        collector.backward(mapLoss);
      }
      try (NDArray g = probe.getArray().getGradient()) {
        Fixture.assertClose(
            Fixture.floats(expected.get("layer0_map_square_sum_grad")),
            g,
            1e-6,
            1e-4,
            "d(sum M0^2)/dq_proj");
      }
      Fixture.zeroGradients(parameters);
    }
  }

  @Test
  void hybridExportOfTracedPartsMatchesAndTrains() {
    // The same weights as a scripted wrapper around traced decoder and vision modules (the export
    // route for models torch.jit.script cannot compile), traced at another length and batch.
    JsonNode expected = Fixture.expected();
    try (TorchScriptVlm hybrid = TorchScriptVlm.load(Fixture.model(Fixture.HYBRID), true);
        NDManager step = manager.newSubManager()) {
      assertEquals(77, hybrid.trainableParameters().size());
      VlmBatch batch = Fixture.batch(step);
      ModelOutput out =
          hybrid.forward(
              batch, ForwardRequest.attentionOf(0, 2).withPerHeadMaps().withHiddenStates(), false);
      Fixture.assertClose(expected.get("logits"), out.logits(), ATOL, 0, "hybrid logits");
      Fixture.assertClose(expected.get("maps").get(1), out.perHead().get(2), ATOL, 0, "map 2");
      Fixture.assertClose(
          expected.get("hidden_states").get(3), out.hiddenStates().get(3), ATOL, 0, "hidden 3");
      Parameter probe =
          Fixture.parameter(
              hybrid.trainableParameters(),
              "decoder." + expected.get("gradients").get("parameter").asText());
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        ModelOutput train = hybrid.forward(batch, ForwardRequest.logitsOnly(), true);
        collector.backward(
            NextTokenCrossEntropy.create().evaluate(train.logits(), batch.layout().labels(step)));
      }
      try (NDArray g = probe.getArray().getGradient()) {
        Fixture.assertClose(
            Fixture.floats(expected.get("gradients").get("next_token_ce_grad")),
            g,
            1e-6,
            1e-4,
            "hybrid dCE/dq_proj");
      }
      Fixture.zeroGradients(hybrid.trainableParameters());
    }
  }
}
