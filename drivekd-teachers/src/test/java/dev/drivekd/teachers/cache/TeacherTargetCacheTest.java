package dev.drivekd.teachers.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.attention.TokenSegment;
import dev.drivekd.core.train.checkpoint.FileDigest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache's files: exact round trip through chunks in any order, the documented byte layout,
 * checksum, version, recipe, teacher, dataset and layout mismatches named, writer checks.
 */
class TeacherTargetCacheTest {

  private static final TeacherIdentity A = new TeacherIdentity("perceiver", "w-a", 4);
  private static final TeacherIdentity B = new TeacherIdentity("planner", "w-b", 6);

  @TempDir Path dir;

  private static CacheRecipe recipe() {
    return CacheRecipe.builder()
        .addTeacher(A)
        .addTeacher(B)
        .add("perceiver", "p:first_att_Atv", 0, TargetKind.TEXT_TO_VISION)
        .add("planner", "d:penult_att_Atv", 4, TargetKind.TEXT_TO_VISION)
        .add("planner", "r:intermediate", 1, TargetKind.FULL_MAP)
        .build();
  }

  /** Sample {@code s}: text s%3+1, image 2+s%2, answer 2 tokens (answer tokens are text rows). */
  private static TokenLayout layout(int s) {
    return TokenLayout.fromSegments(
        List.of(
            List.of(
                TokenSegment.text(s % 3 + 1),
                TokenSegment.image(2 + s % 2),
                TokenSegment.answer(2))));
  }

  private static SampleTargets targets(int s, CacheRecipe recipe, Random random) {
    TokenLayout layout = layout(s);
    SampleTargets t = SampleTargets.of(s, layout, 0);
    for (CacheRecipe.Entry e : recipe.entries()) {
      int[] shape = t.expectedShape(e.kind());
      float[] v = new float[shape[0] * shape[1]];
      for (int i = 0; i < v.length; i++) {
        v[i] = random.nextFloat();
      }
      t.put(new CachedTarget(e.key(), e.kind(), shape[0], shape[1], v));
    }
    return t;
  }

  private Path write(int samples, int perChunk, long seed) {
    Random random = new Random(seed);
    List<Integer> order = new ArrayList<>();
    for (int s = 0; s < samples; s++) {
      order.add(s);
    }
    Collections.shuffle(order, new Random(seed));
    try (TeacherTargetCacheWriter w =
        TeacherTargetCacheWriter.builder(dir, recipe(), "ds")
            .optSamplesPerChunk(perChunk)
            .create()) {
      for (int s : order) {
        w.append(targets(s, recipe(), new Random(seed * 1000 + s)));
      }
      w.finish();
    }
    return dir;
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void samplesRoundTripExactlyThroughChunksInAnyOrder() throws IOException {
    write(7, 3, 11);
    assertEquals(
        List.of("chunk-000000.dktc", "chunk-000001.dktc", "chunk-000002.dktc", "index.json"),
        files());
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir, recipe(), "ds")) {
      assertEquals(7, cache.size());
      assertEquals(
          List.of(3, 3, 1), cache.index().chunks().stream().map(c -> c.samples().size()).toList());
      List<Integer> order = new ArrayList<>(List.of(6, 0, 3, 3, 5, 1, 2, 4));
      for (int s : order) {
        CachedSample got = cache.read(s, layout(s), 0);
        SampleTargets expected = targets(s, recipe(), new Random(11 * 1000 + s));
        assertEquals(s, got.sampleIndex());
        assertEquals(expected.layoutFingerprint(), got.layoutFingerprint());
        assertEquals(3, got.targets().size());
        for (CachedTarget want : expected.targets()) {
          CachedTarget have = got.target(want.key());
          assertEquals(want.kind(), have.kind());
          assertEquals(want.rows(), have.rows());
          assertEquals(want.cols(), have.cols());
          assertArrayEquals(want.values(), have.values(), 0f, s + " " + want.key());
        }
      }
      assertFalse(cache.contains(7));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> cache.read(7));
      assertTrue(
          e.getMessage().contains("sample 7 is not in the cache (7 samples)"), e.getMessage());
    }
    for (int c = 0; c < 3; c++) {
      Path chunk = dir.resolve(String.format("chunk-%06d.dktc", c));
      ObjectNode json =
          (ObjectNode) TeacherTargetCacheWriter.JSON.readTree(dir.resolve("index.json").toFile());
      assertEquals(FileDigest.of(chunk).sha256(), json.get("chunks").get(c).get("sha256").asText());
    }
  }

  @Test
  void subsetOfEntriesPerSampleIsAllowed() {
    CacheRecipe recipe = recipe();
    try (TeacherTargetCacheWriter w =
        TeacherTargetCacheWriter.builder(dir, recipe, "ds").create()) {
      SampleTargets t = SampleTargets.of(0, layout(0), 0);
      t.put(
          new CachedTarget(
              recipe.entries().get(0).key(),
              TargetKind.TEXT_TO_VISION,
              3,
              2,
              new float[] {1, 2, 3, 4, 5, 6}));
      w.append(t);
      w.finish();
    }
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir)) {
      CachedSample s = cache.read(0);
      assertEquals(1, s.targets().size());
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> s.target(recipe.entries().get(1).key()));
      assertTrue(
          e.getMessage()
              .startsWith("sample 0 has no cached target planner/d:penult_att_Atv/layer 4"),
          e.getMessage());
    }
  }

  @Test
  void chunkBytesAreAsDocumented() throws IOException {
    CacheRecipe recipe =
        CacheRecipe.builder()
            .addTeacher(A)
            .add("perceiver", "p", 0, TargetKind.TEXT_TO_VISION)
            .build();
    TokenLayout layout =
        TokenLayout.fromSegments(List.of(List.of(TokenSegment.text(1), TokenSegment.image(2))));
    try (TeacherTargetCacheWriter w =
        TeacherTargetCacheWriter.builder(dir, recipe, "ds").create()) {
      w.append(
          SampleTargets.of(5, layout, 0)
              .put(
                  new CachedTarget(
                      new TargetKey("perceiver", "p", 0),
                      TargetKind.TEXT_TO_VISION,
                      1,
                      2,
                      new float[] {1f, -2f})));
      w.finish();
    }
    String fingerprint = LayoutFingerprint.of(layout, 0);
    String expected =
        "444b544341434845" // DKTCACHE
            + "01000000" // version
            + "00000000" // chunk 0
            + "05000000" // sample 5 (record at offset 16)
            + fingerprint
            + "01000000" // one entry
            + "00000000" // entry id 0
            + "01000000" // 1 row
            + "02000000" // 2 columns
            + "0000803f" // 1.0f
            + "000000c0" // -2.0f
            + "05000000" // directory: sample 5
            + "1000000000000000" // offset 16
            + "3c00000000000000" // length 60
            + "01000000" // one sample
            + "4c00000000000000" // directory at byte 76
            + "444b54435441494c"; // DKTCTAIL
    assertEquals(
        expected, HexFormat.of().formatHex(Files.readAllBytes(dir.resolve("chunk-000000.dktc"))));
  }

  @Test
  void corruptChunkIsNamedAndOtherChunksStillRead() throws IOException {
    write(6, 3, 5);
    Path chunk = dir.resolve("chunk-000001.dktc");
    byte[] bytes = Files.readAllBytes(chunk);
    bytes[40] ^= 0x10;
    Files.write(chunk, bytes);
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir, recipe(), "ds")) {
      int inSecond = cache.index().chunks().get(1).samples().get(0);
      TeacherCacheException e =
          assertThrows(TeacherCacheException.class, () -> cache.read(inSecond));
      assertEquals(chunk, e.file());
      assertTrue(e.getMessage().startsWith(chunk.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
      int inFirst = cache.index().chunks().get(0).samples().get(0);
      assertEquals(inFirst, cache.read(inFirst).sampleIndex());
    }
    Files.write(chunk, java.util.Arrays.copyOf(bytes, bytes.length - 3));
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir)) {
      int inSecond = cache.index().chunks().get(1).samples().get(0);
      TeacherCacheException e =
          assertThrows(TeacherCacheException.class, () -> cache.read(inSecond));
      assertTrue(e.getMessage().contains("size mismatch"), e.getMessage());
    }
  }

  private ObjectNode index() throws IOException {
    return (ObjectNode) TeacherTargetCacheWriter.JSON.readTree(dir.resolve("index.json").toFile());
  }

  private void writeIndex(ObjectNode json) throws IOException {
    Files.write(dir.resolve("index.json"), TeacherTargetCacheWriter.JSON.writeValueAsBytes(json));
  }

  @Test
  void versionMismatchesAreNamed() throws IOException {
    write(2, 4, 3);
    ObjectNode original = index();
    ObjectNode json = original.deepCopy();
    json.put("version", 7);
    writeIndex(json);
    TeacherCacheException e =
        assertThrows(TeacherCacheException.class, () -> TeacherTargetCache.open(dir));
    assertEquals(dir.resolve("index.json"), e.file());
    assertEquals("version", e.field().orElseThrow());
    assertTrue(
        e.getMessage().contains("cache format version 7, this build reads versions 1 to 2"),
        e.getMessage());

    // A newer index with fields this build does not know is refused by its version, not the parser.
    json = original.deepCopy();
    json.put("version", 3);
    json.put("compression", "zstd");
    writeIndex(json);
    e = assertThrows(TeacherCacheException.class, () -> TeacherTargetCache.open(dir));
    assertEquals("version", e.field().orElseThrow());
    assertTrue(e.getMessage().contains("cache format version 3"), e.getMessage());

    // Version 1 (no panel) is still read: same chunks, same values.
    assertEquals(2, original.get("version").asInt(), "this build writes version 2");
    json = original.deepCopy();
    json.put("version", 1);
    json.remove("panel");
    writeIndex(json);
    try (TeacherTargetCache v1 = TeacherTargetCache.open(dir)) {
      assertEquals(1, v1.index().version());
      assertNull(v1.index().panel());
      assertEquals(2, v1.size());
      for (CachedTarget want : targets(1, recipe(), new Random(3 * 1000 + 1)).targets()) {
        assertArrayEquals(want.values(), v1.read(1, layout(1), 0).target(want.key()).values(), 0f);
      }
    }

    // A chunk of another version (its checksum re-listed, so the version check is what fails).
    Path chunk = dir.resolve("chunk-000000.dktc");
    byte[] bytes = Files.readAllBytes(chunk);
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
    Files.write(chunk, bytes);
    json = original.deepCopy();
    ((ObjectNode) json.get("chunks").get(0)).put("sha256", FileDigest.of(chunk).sha256());
    writeIndex(json);
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir)) {
      TeacherCacheException c = assertThrows(TeacherCacheException.class, () -> cache.read(0));
      assertEquals(chunk, c.file());
      assertEquals("header.version", c.field().orElseThrow());
      assertTrue(c.getMessage().contains("chunk format version 2"), c.getMessage());
    }
  }

  @Test
  void recipeTeacherAndDatasetMismatchesAreNamed() {
    write(2, 4, 3);
    Path index = dir.resolve("index.json");

    TeacherCacheException data =
        assertThrows(
            TeacherCacheException.class, () -> TeacherTargetCache.open(dir, recipe(), "other"));
    assertEquals(index, data.file());
    assertEquals("datasetFingerprint", data.field().orElseThrow());
    assertTrue(
        data.getMessage().contains("computed on dataset ds, this run's dataset is other"),
        data.getMessage());

    CacheRecipe newWeights =
        CacheRecipe.builder()
            .addTeacher(new TeacherIdentity("planner", "w-b2", 6))
            .add("planner", "d:penult_att_Atv", 4, TargetKind.TEXT_TO_VISION)
            .build();
    TeacherCacheException weights =
        assertThrows(
            TeacherCacheException.class, () -> TeacherTargetCache.open(dir, newWeights, "ds"));
    assertEquals("recipe.teachers['planner'].weightsFingerprint", weights.field().orElseThrow());
    assertTrue(
        weights.getMessage().contains("computed with weights w-b, this run's teacher has w-b2"),
        weights.getMessage());

    CacheRecipe missing =
        CacheRecipe.builder()
            .addTeacher(B)
            .add("planner", "r:intermediate", 2, TargetKind.FULL_MAP)
            .build();
    TeacherCacheException entry =
        assertThrows(
            TeacherCacheException.class, () -> TeacherTargetCache.open(dir, missing, "ds"));
    assertEquals("recipe.entries", entry.field().orElseThrow());
    assertTrue(
        entry.getMessage().contains("planner/r:intermediate/layer 2 (FULL_MAP) is not cached"),
        entry.getMessage());

    CacheRecipe kind =
        CacheRecipe.builder()
            .addTeacher(B)
            .add("planner", "r:intermediate", 1, TargetKind.TEXT_TO_VISION)
            .build();
    TeacherCacheException k =
        assertThrows(TeacherCacheException.class, () -> TeacherTargetCache.open(dir, kind, "ds"));
    assertTrue(
        k.getMessage().contains("is cached as FULL_MAP, the run needs TEXT_TO_VISION"),
        k.getMessage());

    CacheRecipe stranger =
        CacheRecipe.builder()
            .addTeacher(new TeacherIdentity("reasoner", "w-r", 4))
            .add("reasoner", "r:intermediate", 1, TargetKind.FULL_MAP)
            .build();
    TeacherCacheException t =
        assertThrows(
            TeacherCacheException.class, () -> TeacherTargetCache.open(dir, stranger, "ds"));
    assertTrue(
        t.getMessage().contains("not in the cache; it holds teachers [perceiver, planner]"),
        t.getMessage());

    // A subset of what is cached is fine.
    CacheRecipe subset =
        CacheRecipe.builder()
            .addTeacher(A)
            .add("perceiver", "p:first_att_Atv", 0, TargetKind.TEXT_TO_VISION)
            .build();
    TeacherTargetCache.open(dir, subset, "ds").close();
  }

  @Test
  void layoutMismatchIsNamed() {
    write(3, 4, 3);
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir)) {
      TeacherCacheException e =
          assertThrows(TeacherCacheException.class, () -> cache.read(1, layout(2), 0));
      assertEquals(dir.resolve("chunk-000000.dktc"), e.file());
      assertEquals("sample 1", e.field().orElseThrow());
      assertTrue(e.getMessage().contains("cached for token layout"), e.getMessage());
    }
  }

  @Test
  void writerChecksTargetsAndRefusesToOverwrite() throws IOException {
    CacheRecipe recipe = recipe();
    try (TeacherTargetCacheWriter w =
        TeacherTargetCacheWriter.builder(dir, recipe, "ds").create()) {
      TargetKey p = recipe.entries().get(0).key();
      IllegalArgumentException shape =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.append(
                      SampleTargets.of(0, layout(0), 0)
                          .put(
                              new CachedTarget(p, TargetKind.TEXT_TO_VISION, 2, 2, new float[4]))));
      assertTrue(
          shape
              .getMessage()
              .contains(
                  "sample 0, target perceiver/p:first_att_Atv/layer 0: 2 x 2 does not fit the sample's layout (3 x 2 for TEXT_TO_VISION)"),
          shape.getMessage());
      IllegalArgumentException unknown =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.append(
                      SampleTargets.of(0, layout(0), 0)
                          .put(
                              new CachedTarget(
                                  new TargetKey("perceiver", "p:first_att_Atv", 1),
                                  TargetKind.TEXT_TO_VISION,
                                  1,
                                  2,
                                  new float[2]))));
      assertTrue(
          unknown.getMessage().contains("not an entry of the cache's recipe"),
          unknown.getMessage());
      IllegalArgumentException kind =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  w.append(
                      SampleTargets.of(0, layout(0), 0)
                          .put(new CachedTarget(p, TargetKind.FULL_MAP, 5, 5, new float[25]))));
      assertTrue(
          kind.getMessage().contains("the recipe stores TEXT_TO_VISION, got FULL_MAP"),
          kind.getMessage());
      w.append(targets(0, recipe, new Random(1)));
      IllegalArgumentException twice =
          assertThrows(
              IllegalArgumentException.class, () -> w.append(targets(0, recipe, new Random(1))));
      assertTrue(twice.getMessage().contains("sample 0 was already appended"), twice.getMessage());
      // Not finished: no index, so no reader accepts the folder.
    }
    TeacherCacheException unfinished =
        assertThrows(TeacherCacheException.class, () -> TeacherTargetCache.open(dir));
    assertTrue(
        unfinished.getMessage().contains("not a finished teacher-target cache"),
        unfinished.getMessage());
    TeacherCacheException notEmpty =
        assertThrows(
            TeacherCacheException.class,
            () -> TeacherTargetCacheWriter.builder(dir, recipe, "ds").create());
    assertTrue(
        notEmpty.getMessage().contains("a new cache needs an empty folder"), notEmpty.getMessage());
  }

  @Test
  void chunksRollOverAtTheByteLimit() throws IOException {
    // Each sample: 40 head bytes + 3 x 12 entry heads + (2+6+25..49) floats: about 200-330 bytes.
    try (TeacherTargetCacheWriter w =
        TeacherTargetCacheWriter.builder(dir, recipe(), "ds").optMaxChunkBytes(1024).create()) {
      for (int s = 0; s < 12; s++) {
        w.append(targets(s, recipe(), new Random(s)));
      }
      w.finish();
    }
    List<String> chunks = files().stream().filter(f -> f.endsWith(".dktc")).toList();
    assertTrue(chunks.size() >= 3, chunks.toString());
    for (String c : chunks) {
      assertTrue(Files.size(dir.resolve(c)) <= 1024, c + " " + Files.size(dir.resolve(c)));
    }
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir, recipe(), "ds")) {
      for (int s = 11; s >= 0; s--) {
        assertArrayEquals(
            targets(s, recipe(), new Random(s)).targets().get(2).values(),
            cache.read(s, layout(s), 0).targets().values().stream().toList().get(2).values());
      }
    }
  }

  @Test
  void recipeIsValidated() {
    IllegalArgumentException layer =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CacheRecipe.builder()
                    .addTeacher(A)
                    .add("perceiver", "p", 4, TargetKind.FULL_MAP)
                    .build());
    assertTrue(
        layer.getMessage().contains("layer 4 is not below the teacher's depth 4"),
        layer.getMessage());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CacheRecipe.builder()
                    .addTeacher(A)
                    .add("ghost", "p", 0, TargetKind.FULL_MAP)
                    .build());
    assertTrue(
        unknown.getMessage().contains("names teacher 'ghost', which is not listed"),
        unknown.getMessage());
  }
}
