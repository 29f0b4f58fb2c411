package dev.drivekd.eval.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentProbeTest {

  @TempDir Path dir;

  /** The native model seen only through the interface: decoded without its cache. */
  private record Opaque(InternVlModel inner) implements VisionLanguageModel {
    @Override
    public ModelCard card() {
      return inner.card();
    }

    @Override
    public Device device() {
      return inner.device();
    }

    @Override
    public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
      return inner.forward(batch, request, training);
    }

    @Override
    public List<Parameter> trainableParameters() {
      return inner.trainableParameters();
    }

    @Override
    public void freeze(boolean frozen) {
      inner.freeze(frozen);
    }

    @Override
    public void close() {}
  }

  @Test
  void measuresSizeSpeedAndMemoryOfANativeModel() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 5);
        NDManager m = model.manager().newSubManager()) {
      BatchEncoder encoder = tiny.encoder(model.card());
      VlmBatch prompt =
          encoder.encodeSamples(
              m, List.of(tiny.dataset.get(0)), BatchEncoder.PromptMode.OPEN_ENDED);
      long expected =
          model.namedParameters().values().stream().mapToLong(p -> p.getArray().size()).sum();
      DeploymentFigures f = DeploymentProbe.measure(model, prompt, 6, 2);
      assertEquals(expected, f.parameters());
      assertEquals(4 * expected, f.weightBytes(), "float32 weights");
      assertEquals(prompt.length(), f.promptLength());
      assertEquals(6, f.newTokens());
      assertTrue(f.cached());
      assertTrue(f.firstTokenMs() > 0 && f.decodeTokensPerSecond() > 0, f.toString());
      assertEquals("process_rss", f.memoryKind());
      assertTrue(f.peakMemoryBytes() > 0);

      // through the interface only: recomputed, the same tokens, the same size
      Opaque opaque = new Opaque(model);
      int v = model.card().vocabularySize();
      assertArrayEquals(
          DeploymentProbe.decode(model, prompt, 6, v),
          DeploymentProbe.decode(opaque, prompt, 6, v));
      model.freeze(false);
      DeploymentFigures g = DeploymentProbe.measure(opaque, prompt, 3, 1);
      assertFalse(g.cached());
      assertEquals(expected, g.parameters());
    }
  }

  /** Copies a resource of the TorchScript fixtures (in drivekd-teachers' test jar) into dir. */
  private Path fixture(String name) throws java.io.IOException {
    Path file = dir.resolve(name);
    try (var in = getClass().getResourceAsStream("/torchscript/tiny-internvl/" + name)) {
      assertTrue(in != null, name + " not on the test class path");
      java.nio.file.Files.copy(in, file);
    }
    return file;
  }

  @Test
  void measuresATorchScriptModelByRecomputingAndCountsItsParametersAsPyTorchDid() throws Exception {
    Path model = fixture("model.pt");
    fixture("model.json");
    var expected =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(fixture("expected.json").toFile());
    try (var vlm = dev.drivekd.teachers.torchscript.TorchScriptVlm.load(model, false);
        NDManager m = NDManager.newBaseManager(vlm.device())) {
      // the recorded batch's first sample, unpadded: B = 1
      int length = expected.get("lengths").get(0).asInt();
      long placeholder = expected.get("placeholder_id").asLong();
      long[] ids = new long[length];
      boolean[][] image = new boolean[1][length];
      int visions = 0;
      for (int i = 0; i < length; i++) {
        ids[i] = expected.get("input_ids").get(0).get(i).asLong();
        image[0][i] = ids[i] == placeholder;
        visions += image[0][i] ? 1 : 0;
      }
      int images = visions / vlm.card().tokensPerImage();
      int size = vlm.card().imageSize();
      // pixel_values: {shape, data} of the whole batch; the first sample's images come first
      float[] pixels = new float[images * 3 * size * size];
      var data = expected.get("pixel_values").get("data");
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = (float) data.get(i).asDouble();
      }
      VlmBatch prompt =
          new VlmBatch(
              m.create(ids, new ai.djl.ndarray.types.Shape(1, length)),
              m.create(pixels, new ai.djl.ndarray.types.Shape(images, 3, size, size)),
              dev.drivekd.core.attention.TokenLayout.of(
                  image, new boolean[1][length], new int[] {length}));
      DeploymentFigures f = DeploymentProbe.measure(vlm, prompt, 3, 1);
      assertFalse(f.cached(), "TorchScript models decode by recomputing");
      assertEquals(expected.get("parameter_count").asLong(), f.parameters(), "PyTorch's count");
      assertEquals(4 * f.parameters(), f.weightBytes());
      assertEquals(length, f.promptLength());
      assertTrue(f.firstTokenMs() > 0 && f.decodeTokensPerSecond() > 0);
    }
  }
}
