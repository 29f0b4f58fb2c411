package dev.drivekd.core.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.train.optimizer.AdamWState;
import dev.drivekd.core.train.weighting.DynamicWeightConfig;
import dev.drivekd.core.train.weighting.LossWeightingState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CheckpointStore}: every part round-trips bit for bit, a resumed run equals the
 * uninterrupted one, failed and interrupted saves leave the previous checkpoint and {@code latest}
 * as they were, corruption is found and named, retention keeps the newest K.
 */
class CheckpointStoreTest {

  @TempDir Path runDir;
  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  private Checkpoint checkpointAt(long step, Map<String, NDArray> weights) {
    return Checkpoint.builder()
        .setCounters(new StepCounters(step / 10, step * 3, step, step % 7))
        .setStudentWeights(weights)
        .setProvenance(
            new RunProvenance(
                null, Map.of("seed", step), Map.of(), Map.of(), "none", "2026-01-01T00:00:00Z"))
        .build();
  }

  private Checkpoint checkpointAt(long step) {
    return checkpointAt(step, Map.of("w", manager.create(new float[] {step, -step})));
  }

  private List<String> names(CheckpointStore store) {
    return store.list().stream().map(StoredCheckpoint::name).collect(Collectors.toList());
  }

  private List<String> hiddenEntries() throws IOException {
    try (Stream<Path> s = Files.list(runDir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("."))
          .collect(Collectors.toList());
    }
  }

  @Test
  void everyPartRoundTripsBitForBit() {
    TinyRun run = new TinyRun(manager);
    for (int i = 0; i < 11; i++) {
      run.microStep(); // 11 micro-steps: mid-window in epoch 1, after 4 optimizer steps
    }
    CheckpointStore store = CheckpointStore.open(runDir);
    Map<String, NDArray> weights = TensorFileTest.everyDtype(manager, 9);
    weights.putAll(StudentWeights.of(run.params));
    Checkpoint saved;
    try (NDManager export = manager.newSubManager()) {
      Checkpoint c = run.checkpoint(export);
      saved =
          Checkpoint.builder()
              .setCounters(c.counters())
              .setStudentWeights(weights)
              .setProvenance(c.provenance())
              .optOptimizer(c.optimizer().orElseThrow())
              .optLossWeighting(c.lossWeighting().orElseThrow())
              .optAccumulation(c.accumulation().orElseThrow())
              .optRandomStates(c.randomStates().withBytes("sampler", new byte[] {0, -1, 7, 127}))
              .build();
      Path folder = store.save(saved);
      assertEquals(runDir.resolve("step-000004"), folder);
      assertEquals("step-000004", store.latestName().orElseThrow());

      Checkpoint back = store.loadLatest(manager);
      assertEquals(new StepCounters(1, 11, 4, 4), back.counters());
      TensorFileTest.assertSameTensors(saved.studentWeights(), back.studentWeights());
      AdamWState a = saved.optimizer().orElseThrow();
      AdamWState b = back.optimizer().orElseThrow();
      assertEquals(4, b.updateCount());
      assertEquals(a.parameters().keySet(), b.parameters().keySet());
      for (String name : a.parameters().keySet()) {
        AdamWState.ParameterState pa = a.parameters().get(name);
        AdamWState.ParameterState pb = b.parameters().get(name);
        assertEquals(pa.step(), pb.step());
        assertArrayEquals(TensorFileTest.bytes(pa.expAvg()), TensorFileTest.bytes(pb.expAvg()));
        assertArrayEquals(TensorFileTest.bytes(pa.expAvgSq()), TensorFileTest.bytes(pb.expAvgSq()));
      }
      assertEquals(saved.lossWeighting(), back.lossWeighting());
      assertTrue(back.lossWeighting().orElseThrow().dynamic());
      assertEquals(saved.accumulation(), back.accumulation());
      assertEquals(saved.randomStates(), back.randomStates());
      assertArrayEquals(new byte[] {0, -1, 7, 127}, back.randomStates().bytes("sampler").get());
      assertEquals(saved.provenance(), back.provenance());
      assertEquals(0.05, back.provenance().recipe().get("lr").asDouble());
      back.closeArrays();
    }
  }

  @Test
  void lossWeightingStateWithNonFiniteValuesRoundTrips() {
    LossWeightingState odd =
        new LossWeightingState(
            LossWeightingState.VERSION,
            true,
            Map.of("ce", 1.0, "p:first_att_Atv", 0.5),
            DynamicWeightConfig.defaults(),
            Map.of("ce", 0.54132485f, "p:first_att_Atv", -1.0e-30f),
            Map.of("ce", new LossWeightingState.AdamScalarState(3, 1e-9f, Float.MIN_VALUE)),
            Map.of("ce", 2.5f),
            2,
            Map.of("ce", Float.NaN, "p:first_att_Atv", Float.POSITIVE_INFINITY),
            Map.of("ce", -0.0f));
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(
        Checkpoint.builder()
            .setCounters(new StepCounters(0, 2, 0, 2))
            .setStudentWeights(Map.of())
            .setProvenance(checkpointAt(0).provenance())
            .optLossWeighting(odd)
            .build());
    LossWeightingState back = store.loadLatest(manager).lossWeighting().orElseThrow();
    assertEquals(odd, back);
    assertEquals(
        Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(back.windowNormSums().get("ce")));
    assertEquals(
        Float.floatToRawIntBits(-1.0e-30f),
        Float.floatToRawIntBits(back.a().get("p:first_att_Atv")));
  }

  @Test
  void resumedRunEqualsTheUninterruptedRun() {
    float[][] uninterrupted;
    try (NDManager m = manager.newSubManager()) {
      TinyRun run = new TinyRun(m);
      for (int i = 0; i < 30; i++) {
        run.microStep();
      }
      uninterrupted = run.weights();
    }
    CheckpointStore store = CheckpointStore.open(runDir);
    try (NDManager m = manager.newSubManager()) {
      TinyRun run = new TinyRun(m);
      for (int i = 0; i < 13; i++) {
        run.microStep(); // stops mid-window of epoch 1
      }
      try (NDManager export = m.newSubManager()) {
        store.save(run.checkpoint(export));
      }
    }
    try (NDManager m = manager.newSubManager()) {
      TinyRun resumed = new TinyRun(m); // fresh initial weights, overwritten by the checkpoint
      Checkpoint c = store.latestValid(m).orElseThrow();
      assertEquals(new StepCounters(1, 13, 5, 6), c.counters());
      resumed.restore(c);
      for (int i = 13; i < 30; i++) {
        resumed.microStep();
      }
      // PyTorchAdamW copies imported moments at the first update, so they are closed only now.
      c.closeArrays();
      float[][] after = resumed.weights();
      for (int p = 0; p < after.length; p++) {
        assertArrayEquals(uninterrupted[p], after[p], "parameter " + p);
      }
    }
  }

  /** A codec that writes part of the weights and then fails, like a full disk. */
  private static final class FailingCodec implements TensorCodec {
    @Override
    public String format() {
      return TensorFile.FORMAT;
    }

    @Override
    public String fileName() {
      return "student.dkt";
    }

    @Override
    public void write(Map<String, NDArray> tensors, OutputStream out) throws IOException {
      out.write(TensorFile.MAGIC);
      out.write(new byte[4096]);
      throw new IOException("No space left on device");
    }

    @Override
    public Map<String, NDArray> read(Path file, NDManager manager) {
      return TensorFile.codec().read(file, manager);
    }
  }

  @Test
  void failedSaveLeavesThePreviousCheckpointAndLatest() throws IOException {
    CheckpointStore.open(runDir).save(checkpointAt(10));
    byte[] latestBefore = Files.readAllBytes(runDir.resolve("latest"));
    CheckpointStore failing =
        CheckpointStore.builder(runDir).optTensorCodec(new FailingCodec()).build();
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> failing.save(checkpointAt(20)));
    assertEquals(runDir.resolve("step-000020"), e.file());
    assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
    assertTrue(e.getMessage().contains("nothing changed"), e.getMessage());

    assertArrayEquals(latestBefore, Files.readAllBytes(runDir.resolve("latest")));
    assertEquals(List.of("step-000010"), names(failing));
    assertEquals(List.of(), hiddenEntries(), "the temporary folder is removed");
    Checkpoint c = failing.loadLatest(manager);
    assertEquals(10, c.counters().optimizerStep());
    assertArrayEquals(new float[] {10, -10}, c.studentWeights().get("w").toFloatArray());
  }

  @Test
  void leftoverTemporaryFolderOfACrashIsIgnoredThenRemoved() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    // A process killed mid-save leaves a temporary folder with partial files and no manifest.
    Path leftover = Files.createDirectory(runDir.resolve(".tmp-step-000020-crashed"));
    Files.write(leftover.resolve("student.dkt"), TensorFile.MAGIC);
    Files.writeString(leftover.resolve("counters.json"), "{\"epoch\":");

    assertEquals(List.of("step-000010"), names(store));
    assertEquals(10, store.latestValid(manager).orElseThrow().counters().optimizerStep());
    store.save(checkpointAt(30));
    assertFalse(Files.exists(leftover));
    assertEquals(List.of("step-000010", "step-000030"), names(store));
  }

  @Test
  void completeFolderSavedWithoutItsPointerIsNotUsed() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    store.save(checkpointAt(20));
    // A crash after the rename but before `latest` was replaced: the pointer still names step 10.
    Files.writeString(runDir.resolve("latest"), "step-000010\n");
    assertEquals(10, store.latestValid(manager).orElseThrow().counters().optimizerStep());
    assertEquals(10, store.loadLatest(manager).counters().optimizerStep());
  }

  @Test
  void corruptFileIsNamedAndLatestValidFallsBack() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    store.save(checkpointAt(20));
    Path weights = runDir.resolve("step-000020/student.dkt");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 12] ^= 0x01; // one bit of a float
    Files.write(weights, bytes);

    long arraysBefore = manager.getManagedArrays().size();
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertEquals(weights, e.file());
    assertTrue(e.getMessage().startsWith(weights.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
    assertEquals(arraysBefore, manager.getManagedArrays().size(), "nothing was loaded");

    Checkpoint fallback = store.latestValid(manager).orElseThrow();
    assertEquals(10, fallback.counters().optimizerStep());
    assertEquals("step-000020", store.latestName().orElseThrow(), "latest is not rewritten");

    // A truncated file is a size mismatch.
    Files.write(weights, java.util.Arrays.copyOf(bytes, 10));
    e = assertThrows(CheckpointException.class, () -> store.load("step-000020", manager));
    assertTrue(e.getMessage().contains("size mismatch"), e.getMessage());
  }

  @Test
  void missingManifestMeansIncomplete() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    store.save(checkpointAt(20));
    Path manifest = runDir.resolve("step-000020/manifest.json");
    Files.delete(manifest);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertEquals(manifest, e.file());
    assertTrue(e.getMessage().contains("incomplete"), e.getMessage());
    assertEquals(10, store.latestValid(manager).orElseThrow().counters().optimizerStep());
  }

  @Test
  void formatVersionMismatchIsNamed() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    Path manifest = runDir.resolve("step-000010/manifest.json");
    ObjectNode json = (ObjectNode) CheckpointStore.JSON.readTree(manifest.toFile());
    json.put("version", 2);
    Files.write(manifest, CheckpointStore.JSON.writeValueAsBytes(json));
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertEquals(manifest, e.file());
    assertEquals("version", e.field().orElseThrow());
    assertTrue(
        e.getMessage().contains("checkpoint format version 2, this build reads version 1"),
        e.getMessage());
    // The only checkpoint is unusable: that is an error, not "no checkpoint".
    CheckpointException none =
        assertThrows(CheckpointException.class, () -> store.latestValid(manager));
    assertTrue(none.getMessage().contains("no usable checkpoint"), none.getMessage());
  }

  @Test
  void malformedPartIsNamed() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10));
    Path dir = runDir.resolve("step-000010");
    Path counters = dir.resolve("counters.json");
    Files.writeString(counters, "{\"epoch\": -1, \"microStep\": 0, \"optimizerStep\": 0}");
    // Re-list the file's new digest so that the parse, not the checksum, is what fails.
    ObjectNode json =
        (ObjectNode) CheckpointStore.JSON.readTree(dir.resolve("manifest.json").toFile());
    FileDigest digest = FileDigest.of(counters);
    for (JsonNode part : json.get("files")) {
      if (part.get("part").asText().equals("counters")) {
        ((ObjectNode) part).put("size", digest.size()).put("sha256", digest.sha256());
      }
    }
    Files.write(dir.resolve("manifest.json"), CheckpointStore.JSON.writeValueAsBytes(json));
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertEquals(counters, e.file());
    assertTrue(e.getMessage().contains("not a readable counters record"), e.getMessage());
    assertTrue(e.getMessage().contains("step counters must be >= 0"), e.getMessage());
  }

  @Test
  void aFailedParseAfterTheWeightsLeavesNoArrayBehind() throws IOException {
    TinyRun run = new TinyRun(manager);
    for (int i = 0; i < 6; i++) {
      run.microStep();
    }
    CheckpointStore store = CheckpointStore.open(runDir);
    try (NDManager export = manager.newSubManager()) {
      store.save(run.checkpoint(export));
    }
    Path dir = store.list().get(0).directory();
    Path optimizer = dir.resolve("optimizer.adamw");
    byte[] bytes = Files.readAllBytes(optimizer);
    Files.write(optimizer, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    // Re-list the digest so that the checksum passes and the parse fails after the weights loaded.
    ObjectNode json =
        (ObjectNode) CheckpointStore.JSON.readTree(dir.resolve("manifest.json").toFile());
    FileDigest digest = FileDigest.of(optimizer);
    for (JsonNode part : json.get("files")) {
      if (part.get("part").asText().equals("optimizer")) {
        ((ObjectNode) part).put("size", digest.size()).put("sha256", digest.sha256());
      }
    }
    Files.write(dir.resolve("manifest.json"), CheckpointStore.JSON.writeValueAsBytes(json));
    long before = manager.getManagedArrays().size();
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertEquals(optimizer, e.file());
    assertTrue(e.getMessage().contains("not a readable AdamW state"), e.getMessage());
    assertEquals(before, manager.getManagedArrays().size(), "the weights read first were closed");
  }

  @Test
  void retentionKeepsTheNewestK() throws IOException {
    CheckpointStore store = CheckpointStore.builder(runDir).optKeepLast(2).build();
    for (long step = 1; step <= 5; step++) {
      store.save(checkpointAt(step));
    }
    assertEquals(List.of("step-000004", "step-000005"), names(store));
    assertEquals("step-000005", store.latestName().orElseThrow());
    assertEquals(List.of(), hiddenEntries());
    assertEquals(4, store.load("step-000004", manager).counters().optimizerStep());
  }

  @Test
  void byDefaultARunKeepsItsThreeNewestCheckpoints() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    assertEquals("the 3 newest checkpoints", store.retention());
    for (long step = 1; step <= 7; step++) {
      store.save(checkpointAt(step));
    }
    assertEquals(List.of("step-000005", "step-000006", "step-000007"), names(store));
  }

  @Test
  void milestonesAreKeptBesideTheNewest() throws IOException {
    CheckpointStore store = CheckpointStore.builder(runDir).optKeepLast(2).optKeepEvery(3).build();
    assertEquals(
        "the 2 newest checkpoints and every checkpoint at a multiple of 3 steps",
        store.retention());
    for (long step = 1; step <= 10; step++) {
      store.save(checkpointAt(step));
    }
    assertEquals(List.of("step-000003", "step-000006", "step-000009", "step-000010"), names(store));
    assertEquals(List.of(), hiddenEntries());
  }

  @Test
  void keepAllKeepsEveryCheckpoint() throws IOException {
    CheckpointStore store = CheckpointStore.builder(runDir).optKeepAll().build();
    assertEquals("every checkpoint", store.retention());
    for (long step = 1; step <= 5; step++) {
      store.save(checkpointAt(step));
    }
    assertEquals(5, names(store).size());
  }

  @Test
  void emptyRunDirectoryHasNoCheckpoint() {
    CheckpointStore store = CheckpointStore.open(runDir.resolve("not-yet"));
    assertTrue(store.latestValid(manager).isEmpty());
    assertTrue(store.list().isEmpty());
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> store.loadLatest(manager));
    assertTrue(e.getMessage().contains("no checkpoint was committed"), e.getMessage());
  }

  @Test
  void savingAStepAgainKeepsTheOldFolderAside() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(10, Map.of("w", manager.create(new float[] {1f}))));
    store.save(checkpointAt(10, Map.of("w", manager.create(new float[] {2f}))));
    assertArrayEquals(
        new float[] {2f}, store.loadLatest(manager).studentWeights().get("w").toFloatArray());
    try (Stream<Path> s = Files.list(runDir)) {
      List<Path> aside =
          s.filter(p -> p.getFileName().toString().startsWith("step-000010.superseded-"))
              .collect(Collectors.toList());
      assertEquals(1, aside.size());
      assertTrue(Files.isRegularFile(aside.get(0).resolve("manifest.json")));
    }
    assertEquals(List.of("step-000010"), names(store));
  }

  @Test
  void manifestListsEveryFileWithSizeAndDigest() throws IOException {
    CheckpointStore store = CheckpointStore.open(runDir);
    store.save(checkpointAt(7));
    CheckpointManifest manifest = store.verify("step-000007");
    assertEquals("drivekd-checkpoint", manifest.format());
    assertEquals(1, manifest.version());
    assertEquals(
        List.of("counters", "student-weights", "random-states", "provenance"),
        manifest.files().stream().map(CheckpointManifest.Part::part).collect(Collectors.toList()));
    for (CheckpointManifest.Part part : manifest.files()) {
      assertEquals(
          FileDigest.of(runDir.resolve("step-000007").resolve(part.file())), part.digest());
    }
    assertEquals(
        "step-000007\n", Files.readString(runDir.resolve("latest"), StandardCharsets.UTF_8));
  }

  @Test
  void weightsThatDoNotFitTheModelAreNamed() {
    TinyRun run = new TinyRun(manager);
    Map<String, NDArray> wrong =
        Map.of(
            "layer.weight", manager.create(new float[] {1f, 2f}),
            "extra", manager.create(new float[] {1f}));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StudentWeights.copyInto(run.params, wrong, "run/step-000003"));
    assertTrue(e.getMessage().startsWith("run/step-000003: "), e.getMessage());
    assertTrue(
        e.getMessage().contains("'layer.weight': stored float32 (2), model float32 (3, 4)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("'layer.bias': no stored weights"), e.getMessage());
    assertTrue(
        e.getMessage().contains("'extra': stored, but the model has no such parameter"),
        e.getMessage());
  }
}
