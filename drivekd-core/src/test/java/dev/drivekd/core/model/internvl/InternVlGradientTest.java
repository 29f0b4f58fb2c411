package dev.drivekd.core.model.internvl;

import static dev.drivekd.core.model.internvl.Samples.Segment.answer;
import static dev.drivekd.core.model.internvl.Samples.Segment.image;
import static dev.drivekd.core.model.internvl.Samples.Segment.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gradient support (method.md 4.1, djl-notes 3): a loss on layer {@code l}'s head-averaged map
 * reaches the vision encoder, the projector, the embeddings, every earlier layer and layer {@code
 * l}'s input norm, q and k, and nothing else; CE reaches everything.
 */
class InternVlGradientTest {

  private static InternVlConfig config;
  private static InternVlModel model;

  @BeforeAll
  static void open() {
    config = InternVlConfig.preset("student-tiny");
    model = InternVlModel.create(config, Device.cpu(), 3);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @BeforeEach
  void unfreeze() {
    model.freeze(false);
    zeroGradients();
  }

  private static VlmBatch batch(NDManager manager) {
    int v = config.language().vocabSize();
    return Samples.batch(
        manager,
        config,
        List.of(
            Samples.sample(text(Samples.ids(1, 3, v)), image(21), answer(Samples.ids(2, 4, v))),
            Samples.sample(text(Samples.ids(3, 2, v)), image(22), answer(Samples.ids(4, 2, v)))));
  }

  /** Names of the parameters whose gradient has a non-zero entry after {@code loss}. */
  private static Set<String> reached(Function<ModelOutput, NDArray> loss, ForwardRequest request) {
    Set<String> out = new TreeSet<>();
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch batch = batch(sub);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        collector.backward(loss.apply(model.forward(batch, request, true)));
      }
    }
    for (Map.Entry<String, Parameter> entry : model.namedParameters().entrySet()) {
      if (!entry.getValue().requiresGradient()) {
        continue;
      }
      try (NDArray g = entry.getValue().getArray().getGradient();
          NDArray max = g.abs().max()) {
        if (max.getFloat() > 0) {
          out.add(entry.getKey());
        }
      }
    }
    zeroGradients();
    return out;
  }

  private static void zeroGradients() {
    for (Parameter p : model.trainableParameters()) {
      try (NDArray g = p.getArray().getGradient()) {
        g.subi(g);
      }
    }
  }

  /** A generic loss of one layer's map: a fixed random weighting of its entries. */
  private static Function<ModelOutput, NDArray> mapLoss(int layer) {
    return out -> {
      NDArray map = out.headAveraged().get(layer);
      Random random = new Random(layer);
      float[] w = new float[(int) map.size()];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) random.nextGaussian();
      }
      return map.mul(map.getManager().create(w, map.getShape())).sum();
    };
  }

  private static Set<String> expectedForMapOf(int layer) {
    Set<String> out = new TreeSet<>();
    for (String name : model.namedParameters().keySet()) {
      if (name.startsWith("vision_model.")
          || name.startsWith("mlp1.")
          || name.equals("language_model.model.embed_tokens.weight")) {
        out.add(name);
      }
      for (int earlier = 0; earlier < layer; earlier++) {
        if (name.startsWith("language_model.model.layers." + earlier + ".")) {
          out.add(name);
        }
      }
      String own = "language_model.model.layers." + layer + ".";
      for (String part :
          List.of(
              "input_layernorm.weight",
              "self_attn.q_proj.weight",
              "self_attn.q_proj.bias",
              "self_attn.k_proj.weight",
              "self_attn.k_proj.bias")) {
        if (name.equals(own + part)) {
          out.add(name);
        }
      }
    }
    return out;
  }

  @Test
  void aMapLossReachesExactlyTheLayersUpToItsQueriesAndKeys() {
    for (int layer : new int[] {0, 2}) {
      Set<String> reached = reached(mapLoss(layer), ForwardRequest.attentionOf(layer));
      assertEquals(expectedForMapOf(layer), reached, "layer " + layer);
      String own = "language_model.model.layers." + layer + ".";
      assertFalse(reached.contains(own + "self_attn.v_proj.weight"));
      assertFalse(reached.contains(own + "self_attn.o_proj.weight"));
      assertFalse(reached.contains(own + "mlp.gate_proj.weight"));
      assertFalse(reached.contains("language_model.model.norm.weight"));
      assertFalse(reached.contains("language_model.lm_head.weight"));
    }
  }

  @Test
  void crossEntropyReachesEveryParameter() {
    Set<String> reached =
        reached(
            out ->
                NextTokenCrossEntropy.create()
                    .evaluate(out.logits(), out.layout().labels(out.logits().getManager())),
            ForwardRequest.logitsOnly());
    assertEquals(model.namedParameters().keySet(), reached);
  }

  @Test
  void freezingTheVisionSideStopsItsGradients() {
    int all = model.trainableParameters().size();
    model.freezeVision(true);
    List<Parameter> trainable = model.trainableParameters();
    long vision =
        model.namedParameters().keySet().stream()
            .filter(n -> n.startsWith("vision_model.") || n.startsWith("mlp1."))
            .count();
    assertEquals(all - vision, trainable.size());
    Set<String> reached = reached(mapLoss(1), ForwardRequest.attentionOf(1));
    Set<String> expected = expectedForMapOf(1);
    expected.removeIf(n -> n.startsWith("vision_model.") || n.startsWith("mlp1."));
    assertEquals(expected, reached);
    model.freezeVision(false);
    assertEquals(all, model.trainableParameters().size());
    model.freeze(true);
    assertTrue(model.trainableParameters().isEmpty());
    model.freeze(false);
  }
}
