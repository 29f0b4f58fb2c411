package dev.drivekd.core.model.internvl;

import static dev.drivekd.core.model.internvl.Samples.Segment.answer;
import static dev.drivekd.core.model.internvl.Samples.Segment.image;
import static dev.drivekd.core.model.internvl.Samples.Segment.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.LayerIndexException;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The forward contract of the native model: attention rows are distributions over valid earlier
 * keys, padding changes nothing for valid positions, and only requested layers are materialised.
 */
class InternVlForwardTest {

  private static InternVlConfig config;
  private static InternVlModel model;

  @BeforeAll
  static void open() {
    config = InternVlConfig.preset("student-tiny");
    model = InternVlModel.create(config, Device.cpu(), 7);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** Two samples of different lengths, two images in the first, one in the second. */
  private static List<List<Samples.Segment>> samples() {
    int v = config.language().vocabSize();
    return List.of(
        Samples.sample(
            text(Samples.ids(1, 4, v)),
            image(11),
            text(Samples.ids(2, 2, v)),
            image(12),
            answer(Samples.ids(3, 5, v))),
        Samples.sample(text(Samples.ids(4, 3, v)), image(13), answer(Samples.ids(5, 2, v))));
  }

  @Test
  void attentionRowsAreCausalDistributionsOverValidKeys() {
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch batch = Samples.batch(sub, config, samples());
      TokenLayout layout = batch.layout();
      int len = batch.length();
      ModelOutput out =
          model.forward(batch, ForwardRequest.attentionOf(0, -1).withPerHeadMaps(), false);
      assertEquals(List.of(0, 3), List.copyOf(out.headAveraged().keySet()));
      assertEquals(new Shape(2, len, config.language().vocabSize()), out.logits().getShape());
      for (int layer : List.of(0, 3)) {
        float[] averaged = out.headAveraged().get(layer).toFloatArray();
        float[] raw = out.perHead().get(layer).toFloatArray();
        int heads = config.language().numAttentionHeads();
        assertEquals(new Shape(2, heads, len, len), out.perHead().get(layer).getShape());
        for (int b = 0; b < 2; b++) {
          for (int h = -1; h < heads; h++) {
            for (int i = 0; i < len; i++) {
              double sum = 0;
              for (int j = 0; j < len; j++) {
                float p =
                    h < 0
                        ? averaged[(b * len + i) * len + j]
                        : raw[((b * heads + h) * len + i) * len + j];
                if (j > i || !layout.isValid(b, j)) {
                  assertEquals(0f, p, "exact zero at b=" + b + " h=" + h + " i=" + i + " j=" + j);
                } else {
                  assertTrue(p > 0, "positive probability on a visible key");
                }
                sum += p;
              }
              assertEquals(1.0, sum, 1e-5, "row " + i + " of sample " + b + " head " + h);
            }
          }
        }
      }
    }
  }

  @Test
  void aPaddedBatchEqualsItsSamplesRunAlone() {
    try (NDManager sub = model.manager().newSubManager()) {
      List<List<Samples.Segment>> samples = samples();
      VlmBatch batch = Samples.batch(sub, config, samples);
      ForwardRequest request = ForwardRequest.attentionOf(0, 1, 2, 3).withHiddenStates();
      ModelOutput together = model.forward(batch, request, false);
      int len = batch.length();
      long vocabulary = config.language().vocabSize();
      long hidden = config.language().hiddenSize();
      for (int b = 0; b < 2; b++) {
        VlmBatch alone = Samples.batch(sub, config, List.of(samples.get(b)));
        int n = alone.length();
        assertTrue(b == 1 ? n < len : n == len, "sample 1 is padded in the batch");
        ModelOutput single = model.forward(alone, request, false);
        assertClose(
            single.logits(), together.logits().get(b + ", 0:" + n + ", :"), 1e-5, "logits " + b);
        for (int layer = 0; layer < 4; layer++) {
          assertClose(
              single.headAveraged().get(layer),
              together.headAveraged().get(layer).get(b + ", 0:" + n + ", 0:" + n),
              1e-5,
              "map " + layer + " of sample " + b);
        }
        assertEquals(5, single.hiddenStates().size());
        for (int k = 0; k < 5; k++) {
          assertClose(
              single.hiddenStates().get(k),
              together.hiddenStates().get(k).get(b + ", 0:" + n + ", :"),
              1e-5,
              "hidden state " + k + " of sample " + b);
        }
        assertEquals(new Shape(1, n, vocabulary), single.logits().getShape());
        assertEquals(new Shape(1, n, hidden), single.hiddenStates().get(4).getShape());
      }
    }
  }

  private static void assertClose(NDArray expected, NDArray actual, double atol, String what) {
    assertEquals(expected.getShape().slice(1), actual.getShape(), what);
    float[] e = expected.toFloatArray();
    float[] a = actual.toFloatArray();
    double worst = 0;
    for (int i = 0; i < e.length; i++) {
      worst = Math.max(worst, Math.abs(e[i] - a[i]));
    }
    assertTrue(worst <= atol, what + ": max |diff| " + worst);
  }

  @Test
  void onlyRequestedLayersAreMaterialised() {
    int depth = config.language().numHiddenLayers();
    int heads = config.language().numAttentionHeads();
    int[] oneLayer = {1};
    int[] allLayers = {0, 1, 2, 3};
    int previousPerHead = -1;
    try (NDManager sub = model.manager().newSubManager()) {
      // the model keeps this length's rotary tables from its first pass on (StepConstants)
      model.forward(Samples.batch(sub, config, samples()), ForwardRequest.logitsOnly(), false);
    }
    for (int[] layers : List.of(new int[0], oneLayer, allLayers)) {
      for (boolean perHead : new boolean[] {false, true}) {
        try (NDManager sub = model.manager().newSubManager()) {
          VlmBatch batch = Samples.batch(sub, config, samples());
          int len = batch.length();
          int modelArrays =
              model.manager().getManagedArrays().size() - sub.getManagedArrays().size();
          int inputs = sub.getManagedArrays().size();
          ForwardRequest request = ForwardRequest.attentionOf(layers);
          ModelOutput out =
              model.forward(batch, perHead ? request.withPerHeadMaps() : request, false);
          Shape full = new Shape(2, heads, len, len);
          Shape map = new Shape(2, len, len);
          long fullAlive =
              sub.getManagedArrays().stream().filter(a -> a.getShape().equals(full)).count();
          long mapsAlive =
              sub.getManagedArrays().stream().filter(a -> a.getShape().equals(map)).count();
          assertEquals(layers.length, out.headAveraged().size());
          assertEquals(layers.length, mapsAlive, "head-averaged maps alive");
          assertEquals(perHead ? layers.length : 0, out.perHead().size());
          assertEquals(perHead ? layers.length : 0, fullAlive, "[B,H,L,L] arrays alive");
          // logits, the maps, the per-head maps: nothing else survives the forward pass
          assertEquals(
              inputs + 1 + layers.length * (perHead ? 2 : 1),
              sub.getManagedArrays().size(),
              "arrays left in the batch manager");
          assertEquals(
              modelArrays,
              model.manager().getManagedArrays().size() - sub.getManagedArrays().size(),
              "the forward pass leaves nothing in the model's manager");
          if (perHead) {
            assertTrue(fullAlive > previousPerHead);
            previousPerHead = (int) fullAlive;
          }
        }
      }
    }
    assertEquals(depth, previousPerHead);
  }

  @Test
  void aRequestWithoutLogitsGivesTheSameMapsAndNoLogits() {
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch batch = Samples.batch(sub, config, samples());
      ModelOutput full = model.forward(batch, ForwardRequest.attentionOf(0, 1), false);
      int before = sub.getManagedArrays().size();
      ModelOutput maps =
          model.forward(batch, ForwardRequest.attentionOf(0, 1).withoutLogits(), false);
      assertNull(maps.logits());
      assertEquals(before + 2, sub.getManagedArrays().size(), "the two maps, nothing else");
      for (int layer : new int[] {0, 1}) {
        assertArrayEquals(
            full.headAveraged().get(layer).toFloatArray(),
            maps.headAveraged().get(layer).toFloatArray(),
            "layer " + layer);
      }
      assertThrows(IllegalStateException.class, () -> ForwardRequest.logitsOnly().withoutLogits());
    }
  }

  @Test
  void theDjlBlockForwardsAsTheModel() {
    try (NDManager sub = model.manager().newSubManager()) {
      int v = config.language().vocabSize();
      VlmBatch batch =
          Samples.batch(
              sub,
              config,
              List.of(
                  Samples.sample(
                      text(Samples.ids(6, 3, v)), image(9), text(Samples.ids(7, 4, v)))));
      float[] expected =
          model.forward(batch, ForwardRequest.logitsOnly(), false).logits().toFloatArray();
      ai.djl.training.ParameterStore store = new ai.djl.training.ParameterStore(sub, false);
      NDArray viaBlock =
          model
              .block()
              .forward(
                  store,
                  new ai.djl.ndarray.NDList(
                      batch.inputIds(), batch.imageMask(), batch.pixelValues()),
                  false)
              .singletonOrThrow();
      org.junit.jupiter.api.Assertions.assertArrayEquals(expected, viaBlock.toFloatArray());

      // text only: the language model block alone is a plain causal LM
      VlmBatch textOnly =
          Samples.batch(sub, config, List.of(Samples.sample(text(Samples.ids(8, 9, v)))));
      float[] full =
          model.forward(textOnly, ForwardRequest.logitsOnly(), false).logits().toFloatArray();
      ai.djl.nn.Block language = model.block().getChildren().get(1).getValue();
      float[] lm =
          language
              .forward(store, new ai.djl.ndarray.NDList(textOnly.inputIds()), false)
              .singletonOrThrow()
              .toFloatArray();
      org.junit.jupiter.api.Assertions.assertArrayEquals(full, lm);
      assertEquals(
          new Shape(1, 9, v), model.block().getOutputShapes(new Shape[] {new Shape(1, 9)})[0]);
    }
  }

  @Test
  void rejectsBadRequestsAndBatches() {
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch batch = Samples.batch(sub, config, samples());
      assertThrows(
          LayerIndexException.class,
          () -> model.forward(batch, ForwardRequest.attentionOf(4), false));
      VlmBatch missingImage =
          new VlmBatch(batch.inputIds(), batch.pixelValues().get("0:2"), batch.layout());
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.forward(missingImage, ForwardRequest.logitsOnly(), false));
      assertTrue(e.getMessage().contains("48 vision positions but 2 images"), e.getMessage());
      IllegalArgumentException size =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  model.forward(
                      new VlmBatch(
                          batch.inputIds(), sub.zeros(new Shape(3, 3, 56, 56)), batch.layout()),
                      ForwardRequest.logitsOnly(),
                      false));
      assertTrue(size.getMessage().contains("[N, 3, 112, 112]"), size.getMessage());
    }
  }
}
