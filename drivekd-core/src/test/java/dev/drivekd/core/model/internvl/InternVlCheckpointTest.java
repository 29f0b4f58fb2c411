package dev.drivekd.core.model.internvl;

import static dev.drivekd.core.model.internvl.Samples.Segment.answer;
import static dev.drivekd.core.model.internvl.Samples.Segment.image;
import static dev.drivekd.core.model.internvl.Samples.Segment.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.drivekd.core.io.SafeTensors;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.VlmBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded creation, Hugging Face names, and safetensors checkpoints that round-trip bit for bit. */
class InternVlCheckpointTest {

  private static final InternVlConfig CONFIG = InternVlConfig.preset("student-tiny");

  @TempDir Path dir;

  private static float[] logits(InternVlModel model) {
    try (NDManager sub = model.manager().newSubManager()) {
      int v = CONFIG.language().vocabSize();
      VlmBatch batch =
          Samples.batch(
              sub,
              CONFIG,
              List.of(
                  Samples.sample(
                      text(Samples.ids(1, 3, v)), image(5), answer(Samples.ids(2, 4, v)))));
      return model.forward(batch, ForwardRequest.attentionOf(0), false).logits().toFloatArray();
    }
  }

  @Test
  void parametersCarryHuggingFaceNamesAndShapes() {
    try (InternVlModel model = InternVlModel.create(CONFIG, Device.cpu(), 0)) {
      Map<String, Parameter> named = model.namedParameters();
      Map<String, Shape> expected = new LinkedHashMap<>();
      expected.put("vision_model.embeddings.class_embedding", new Shape(1, 1, 32));
      expected.put("vision_model.embeddings.patch_embedding.weight", new Shape(32, 3, 14, 14));
      expected.put("vision_model.embeddings.patch_embedding.bias", new Shape(32));
      expected.put("vision_model.embeddings.position_embedding", new Shape(1, 65, 32));
      expected.put("vision_model.encoder.layers.0.attn.qkv.weight", new Shape(96, 32));
      expected.put("vision_model.encoder.layers.0.attn.qkv.bias", new Shape(96));
      expected.put("vision_model.encoder.layers.0.attn.proj.weight", new Shape(32, 32));
      expected.put("vision_model.encoder.layers.1.mlp.fc1.weight", new Shape(128, 32));
      expected.put("vision_model.encoder.layers.1.mlp.fc2.bias", new Shape(32));
      expected.put("vision_model.encoder.layers.1.norm1.weight", new Shape(32));
      expected.put("vision_model.encoder.layers.1.norm2.bias", new Shape(32));
      expected.put("vision_model.encoder.layers.1.ls1", new Shape(32));
      expected.put("vision_model.encoder.layers.1.ls2", new Shape(32));
      expected.put("language_model.model.embed_tokens.weight", new Shape(512, 64));
      expected.put("language_model.model.layers.0.self_attn.q_proj.weight", new Shape(64, 64));
      expected.put("language_model.model.layers.0.self_attn.q_proj.bias", new Shape(64));
      expected.put("language_model.model.layers.0.self_attn.k_proj.weight", new Shape(32, 64));
      expected.put("language_model.model.layers.0.self_attn.v_proj.bias", new Shape(32));
      expected.put("language_model.model.layers.3.self_attn.o_proj.weight", new Shape(64, 64));
      expected.put("language_model.model.layers.3.mlp.gate_proj.weight", new Shape(176, 64));
      expected.put("language_model.model.layers.3.mlp.up_proj.weight", new Shape(176, 64));
      expected.put("language_model.model.layers.3.mlp.down_proj.weight", new Shape(64, 176));
      expected.put("language_model.model.layers.3.input_layernorm.weight", new Shape(64));
      expected.put("language_model.model.layers.3.post_attention_layernorm.weight", new Shape(64));
      expected.put("language_model.model.norm.weight", new Shape(64));
      expected.put("language_model.lm_head.weight", new Shape(512, 64));
      expected.put("mlp1.0.weight", new Shape(128));
      expected.put("mlp1.0.bias", new Shape(128));
      expected.put("mlp1.1.weight", new Shape(64, 128));
      expected.put("mlp1.1.bias", new Shape(64));
      expected.put("mlp1.3.weight", new Shape(64, 64));
      expected.put("mlp1.3.bias", new Shape(64));
      for (Map.Entry<String, Shape> entry : expected.entrySet()) {
        Parameter p = named.get(entry.getKey());
        assertTrue(p != null, "missing " + entry.getKey());
        assertEquals(entry.getValue(), p.getArray().getShape(), entry.getKey());
      }
      assertFalse(named.containsKey("language_model.model.layers.0.self_attn.o_proj.bias"));
      // ViT: 4 embedding tensors + 14 per block; LLM: embeddings, 12 per layer, norm, head
      int vision = 4 + 2 * 14;
      int language = 1 + 4 * 12 + 1 + 1;
      int projector = 6;
      assertEquals(vision + language + projector, named.size());
      assertEquals(named.size(), model.trainableParameters().size());
      assertEquals(List.copyOf(named.values()), model.trainableParameters());
      // norms start at one, biases and (absent) offsets at zero, layer scale at its init value
      assertArrayEquals(
          ones(64), named.get("language_model.model.norm.weight").getArray().toFloatArray());
      assertArrayEquals(
          new float[32],
          named.get("vision_model.embeddings.patch_embedding.bias").getArray().toFloatArray());
      float[] ls = named.get("vision_model.encoder.layers.0.ls1").getArray().toFloatArray();
      for (float value : ls) {
        assertEquals(0.1f, value);
      }
    }
  }

  private static float[] ones(int n) {
    float[] out = new float[n];
    Arrays.fill(out, 1f);
    return out;
  }

  @Test
  void creationIsSeeded() {
    try (InternVlModel a = InternVlModel.create(CONFIG, Device.cpu(), 11);
        InternVlModel b = InternVlModel.create(CONFIG, Device.cpu(), 11);
        InternVlModel c = InternVlModel.create(CONFIG, Device.cpu(), 12)) {
      String name = "language_model.model.layers.2.self_attn.k_proj.weight";
      float[] wa = a.namedParameters().get(name).getArray().toFloatArray();
      assertArrayEquals(wa, b.namedParameters().get(name).getArray().toFloatArray());
      assertFalse(Arrays.equals(wa, c.namedParameters().get(name).getArray().toFloatArray()));
      double sumSquares = 0;
      for (float w : wa) {
        sumSquares += w * w;
      }
      assertEquals(0.02, Math.sqrt(sumSquares / wa.length), 0.002, "initializer_range");
      assertArrayEquals(logits(a), logits(b));
    }
  }

  @Test
  void saveAndLoadGiveBitIdenticalLogits() throws IOException {
    Path saved = dir.resolve("student");
    float[] before;
    try (InternVlModel model = InternVlModel.create(CONFIG, Device.cpu(), 99)) {
      before = logits(model);
      model.save(saved);
      SafeTensors.Header header = SafeTensors.readHeader(saved.resolve("model.safetensors"));
      assertEquals(
          java.util.Set.copyOf(model.namedParameters().keySet()),
          java.util.Set.copyOf(header.tensors().keySet()));
      assertEquals("pt", header.metadata().get("format"));
      assertEquals("student-tiny", header.metadata().get("drivekd.config"));
    }
    try (InternVlModel loaded = InternVlModel.load(saved, Device.cpu())) {
      assertEquals(CONFIG, loaded.config());
      assertArrayEquals(before, logits(loaded));
    }
  }

  /** Writes the tensors of a fresh model, edited by {@code edit}, as the model's weight file. */
  private Path checkpoint(java.util.function.BiConsumer<NDManager, Map<String, NDArray>> edit)
      throws IOException {
    Path saved = dir.resolve("edited");
    try (InternVlModel model = InternVlModel.create(CONFIG, Device.cpu(), 1);
        NDManager sub = model.manager().newSubManager()) {
      model.save(saved);
      Map<String, NDArray> tensors =
          new LinkedHashMap<>(SafeTensors.read(saved.resolve("model.safetensors"), sub).tensors());
      edit.accept(sub, tensors);
      SafeTensors.write(saved.resolve("model.safetensors"), tensors, Map.of());
      // a weights file written by another tool comes without drivekd's checksum
      Files.delete(saved.resolve(InternVlModel.CHECKSUM_FILE));
    }
    return saved;
  }

  @Test
  void aBitFlippedInSavedWeightsIsRefusedByTheirChecksum() throws IOException {
    Path saved = dir.resolve("flipped");
    try (InternVlModel model = InternVlModel.create(CONFIG, Device.cpu(), 1)) {
      model.save(saved);
    }
    Path weights = saved.resolve(InternVlModel.WEIGHTS_FILE);
    assertTrue(
        Files.readString(saved.resolve(InternVlModel.CHECKSUM_FILE))
            .endsWith("  model.safetensors\n"));
    InternVlModel.load(saved, Device.cpu()).close();
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 5] ^= 0x10; // inside the last tensor's float32 values
    Files.write(weights, bytes);
    IOException e = assertThrows(IOException.class, () -> InternVlModel.load(saved, Device.cpu()));
    assertTrue(e.getMessage().startsWith(weights + ": SHA-256 mismatch"), e.getMessage());
    // without the checksum (weights from another tool) the same file loads: the format has none
    Files.delete(saved.resolve(InternVlModel.CHECKSUM_FILE));
    InternVlModel.load(saved, Device.cpu()).close();
  }

  @Test
  void loadingNamesTheFaultyTensorAndTheFile() throws IOException {
    String q = "language_model.model.layers.1.self_attn.q_proj.weight";
    Path missing = checkpoint((m, t) -> t.remove(q));
    IOException e1 =
        assertThrows(IOException.class, () -> InternVlModel.load(missing, Device.cpu()));
    assertTrue(e1.getMessage().contains("missing tensor \"" + q + "\""), e1.getMessage());
    assertTrue(e1.getMessage().contains("model.safetensors"), e1.getMessage());

    Path extra =
        checkpoint((m, t) -> t.put("language_model.model.layers.9.extra", m.zeros(new Shape(2))));
    IOException e2 = assertThrows(IOException.class, () -> InternVlModel.load(extra, Device.cpu()));
    assertTrue(
        e2.getMessage().contains("unexpected tensor \"language_model.model.layers.9.extra\""),
        e2.getMessage());

    Path shaped = checkpoint((m, t) -> t.put(q, m.zeros(new Shape(64, 32))));
    IOException e3 =
        assertThrows(IOException.class, () -> InternVlModel.load(shaped, Device.cpu()));
    assertTrue(
        e3.getMessage().contains(q) && e3.getMessage().contains("(64, 32)"), e3.getMessage());
    assertTrue(e3.getMessage().contains("model.safetensors"), e3.getMessage());

    Path integer =
        checkpoint(
            (m, t) -> t.put(q, m.zeros(new Shape(64, 64), ai.djl.ndarray.types.DataType.INT32)));
    IOException e4 =
        assertThrows(IOException.class, () -> InternVlModel.load(integer, Device.cpu()));
    assertTrue(e4.getMessage().contains(q) && e4.getMessage().contains("I32"), e4.getMessage());
  }

  @Test
  void halfPrecisionWeightsLoadAsFloat32() throws IOException {
    Path half =
        checkpoint(
            (m, t) -> {
              for (Map.Entry<String, NDArray> entry : t.entrySet()) {
                entry.setValue(
                    entry.getValue().toType(ai.djl.ndarray.types.DataType.FLOAT16, true));
              }
            });
    try (InternVlModel loaded = InternVlModel.load(half, Device.cpu());
        InternVlModel original = InternVlModel.create(CONFIG, Device.cpu(), 1)) {
      String name = "mlp1.1.weight";
      float[] a = original.namedParameters().get(name).getArray().toFloatArray();
      float[] b = loaded.namedParameters().get(name).getArray().toFloatArray();
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], Math.abs(a[i]) * 1e-3 + 1e-7, name + "[" + i + "]");
      }
    }
  }
}
