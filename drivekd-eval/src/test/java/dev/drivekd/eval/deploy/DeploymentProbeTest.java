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
}
