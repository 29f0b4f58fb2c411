package dev.drivekd.teachers.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.VlmBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Bad descriptors, bad files and exports that break the contract fail with the file named. */
class TorchScriptContractTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** Copies the tiny model into {@code dir} with a descriptor edited by {@code edit}. */
  private Path tinyWith(Consumer<ObjectNode> edit) throws IOException {
    Path model =
        Files.copy(
            Fixture.model(Fixture.TINY),
            dir.resolve("model.pt"),
            StandardCopyOption.REPLACE_EXISTING);
    ObjectNode descriptor =
        (ObjectNode)
            JSON.readTree(Fixture.model(Fixture.TINY).resolveSibling("model.json").toFile());
    edit.accept(descriptor);
    JSON.writeValue(dir.resolve("model.json").toFile(), descriptor);
    return model;
  }

  private static TorchScriptModelException fails(Path file, Executable load, String... parts) {
    TorchScriptModelException e = assertThrows(TorchScriptModelException.class, load);
    assertEquals(file.toAbsolutePath().normalize(), e.file().toAbsolutePath().normalize());
    assertTrue(e.getMessage().startsWith(e.file().toString()), e.getMessage());
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
    }
    return e;
  }

  @Test
  void descriptorIsReadIntoTheCard() {
    TorchScriptDescriptor d =
        TorchScriptDescriptor.read(Fixture.model(Fixture.TINY).resolveSibling("model.json"));
    assertEquals(1, d.contractVersion());
    assertEquals(DataType.FLOAT32, d.dataType());
    assertTrue(d.hiddenStates());
    assertEquals("drivekd-fixture-vocab-48", d.card().tokenizer());
    assertEquals(
        dir.resolve("teacher.json"), TorchScriptDescriptor.pathFor(dir.resolve("teacher.pt")));
  }

  @Test
  void missingDescriptor() throws IOException {
    Path model = Files.copy(Fixture.model(Fixture.TINY), dir.resolve("model.pt"));
    fails(
        dir.resolve("model.json"), () -> TorchScriptVlm.load(model, false), "descriptor not found");
  }

  @Test
  void malformedDescriptor() throws IOException {
    Path model = Files.copy(Fixture.model(Fixture.TINY), dir.resolve("model.pt"));
    Files.writeString(dir.resolve("model.json"), "{\"format\": \"drivekd-torchscript-vlm\",");
    fails(dir.resolve("model.json"), () -> TorchScriptVlm.load(model, false), "not valid JSON");
    Files.writeString(dir.resolve("model.json"), "[1, 2]");
    fails(dir.resolve("model.json"), () -> TorchScriptVlm.load(model, false), "a JSON object");
  }

  @Test
  void descriptorFieldsAreChecked() throws IOException {
    Path json = dir.resolve("model.json");
    Path model = tinyWith(d -> d.remove("heads"));
    fails(json, () -> TorchScriptVlm.load(model, false), "'heads' is required");
    tinyWith(d -> d.put("depth", "three"));
    fails(json, () -> TorchScriptVlm.load(model, false), "'depth'", "\"three\"");
    tinyWith(d -> d.put("vocab_size", 0));
    fails(json, () -> TorchScriptVlm.load(model, false), "'vocab_size'", ">= 1");
    tinyWith(d -> d.put("format", "onnx"));
    fails(json, () -> TorchScriptVlm.load(model, false), "format is 'onnx'");
    tinyWith(d -> d.put("contract_version", 2));
    fails(json, () -> TorchScriptVlm.load(model, false), "contract_version 2 is not supported");
    tinyWith(d -> d.put("dtype", "int8"));
    fails(json, () -> TorchScriptVlm.load(model, false), "'dtype'");
    // a bfloat16 array would terminate the JVM inside DJL's native code: refused before any
    tinyWith(d -> d.put("dtype", "bfloat16"));
    fails(json, () -> TorchScriptVlm.load(model, false), "bfloat16", "float32 inputs and outputs");
    tinyWith(d -> d.put("hidden_states", "yes"));
    fails(json, () -> TorchScriptVlm.load(model, false), "'hidden_states'");
  }

  @Test
  void missingOrBrokenModelFile() throws IOException {
    Path missing = dir.resolve("absent.pt");
    fails(missing, () -> TorchScriptVlm.load(missing, false), "model file not found");
    fails(
        dir.resolve("model.pt"),
        () -> TorchScriptVlm.load(dir, false),
        "model file not found"); // a folder without model.pt
    Path model = tinyWith(d -> {});
    Files.writeString(model, "not a zip archive", StandardCharsets.UTF_8);
    fails(model, () -> TorchScriptVlm.load(model, false), "cannot load as TorchScript");
  }

  @Test
  void aFolderLoadsItsModelPt() throws IOException {
    tinyWith(d -> d.put("name", "renamed"));
    try (TorchScriptVlm vlm = TorchScriptVlm.load(dir, false)) {
      assertEquals("renamed", vlm.card().name());
      assertEquals(dir.resolve("model.pt").toAbsolutePath().normalize(), vlm.modelFile());
    }
  }

  @Test
  void descriptorThatOverstatesTheDepth() throws IOException {
    Path model = tinyWith(d -> d.put("depth", 4));
    // The load-time check asks for layer 3, which the 3-layer module rejects.
    fails(model, () -> TorchScriptVlm.load(model, false), "forward failed", "layer 3 is outside");
  }

  @Test
  void descriptorThatUnderstatesTheDepth() throws IOException {
    Path model = tinyWith(d -> d.put("depth", 2));
    // Four hidden states come back where the descriptor implies three.
    fails(model, () -> TorchScriptVlm.load(model, false), "returned 6 tensors, expected 5");
  }

  @Test
  void descriptorWithWrongSizes() throws IOException {
    Path model = tinyWith(d -> d.put("heads", 8));
    fails(
        model,
        () -> TorchScriptVlm.load(model, false),
        "attention map of layer 2 has shape (1, 4, 1, 1), expected (1, 8, 1, 1)",
        "model.json");
    tinyWith(d -> d.put("vocab_size", 50));
    fails(model, () -> TorchScriptVlm.load(model, false), "logits [B, L, V] has shape (1, 1, 48)");
    tinyWith(d -> d.put("hidden_size", 64));
    fails(model, () -> TorchScriptVlm.load(model, false), "hidden state 0 has shape (1, 1, 32)");
  }

  @Test
  void exportThatIgnoresTheRequestedLayers() {
    Path model = Fixture.model(Fixture.IGNORES_LAYERS);
    fails(
        model,
        () -> TorchScriptVlm.load(model, false),
        "returned 6 tensors, expected 5",
        "ignores 'layers'");
    // Without the load-time check the first forward catches it.
    try (TorchScriptVlm vlm =
            TorchScriptVlm.builder().setModelFile(model).optVerify(false).build();
        NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = Fixture.batch(manager);
      fails(
          model,
          () -> vlm.forward(batch, ForwardRequest.attentionOf(0), false),
          "returned 3 tensors, expected 2");
      assertEquals(0, manager.getManagedArrays().size() - batchArrays(batch));
    }
  }

  @Test
  void hiddenStatesAreRefusedWhenTheDescriptorSaysNo() throws IOException {
    Path model = tinyWith(d -> d.put("hidden_states", false));
    try (TorchScriptVlm vlm = TorchScriptVlm.load(model, false);
        NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = Fixture.batch(manager);
      UnsupportedOperationException e =
          assertThrows(
              UnsupportedOperationException.class,
              () -> vlm.forward(batch, ForwardRequest.attentionOf(0).withHiddenStates(), false));
      assertTrue(e.getMessage().contains(dir.resolve("model.json").toString()), e.getMessage());
      assertEquals(
          Set.of(0),
          vlm.forward(batch, ForwardRequest.attentionOf(0), false).headAveraged().keySet());
    }
  }

  @Test
  void batchesThatDisagreeWithTheModelAreRejectedBeforeTheForward() throws IOException {
    try (TorchScriptVlm vlm = TorchScriptVlm.load(Fixture.model(Fixture.TINY), false);
        NDManager manager = NDManager.newBaseManager()) {
      VlmBatch good = Fixture.batch(manager);
      // Vision positions for one image but two images given.
      boolean[][] image = new boolean[2][12];
      for (int i = 2; i < 6; i++) {
        image[0][i] = true;
      }
      TokenLayout oneImage = TokenLayout.of(image, new boolean[2][12], new int[] {12, 8});
      VlmBatch mismatch = new VlmBatch(good.inputIds(), good.pixelValues(), oneImage);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> vlm.forward(mismatch, ForwardRequest.logitsOnly(), false));
      assertTrue(e.getMessage().contains("4 vision positions but 2 images"), e.getMessage());
      // Images of the wrong size.
      VlmBatch wrongSize =
          new VlmBatch(good.inputIds(), manager.zeros(new Shape(2, 3, 8, 8)), good.layout());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> vlm.forward(wrongSize, ForwardRequest.logitsOnly(), false));
      assertTrue(e.getMessage().contains("[N, 3, 16, 16]"), e.getMessage());
    }
  }

  private static int batchArrays(VlmBatch batch) {
    return batch.arrays().size();
  }
}
