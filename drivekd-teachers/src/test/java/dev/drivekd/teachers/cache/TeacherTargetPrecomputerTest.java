package dev.drivekd.teachers.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The precomputer runs each distinct teacher once per sample with the union of its roles' layers,
 * stores exactly the recipe's entries with the kinds their losses read, and records the teachers'
 * identities and cards, the roles and the dataset.
 */
class TeacherTargetPrecomputerTest {

  private static final SortedSet<Integer> ALL_BUT_LAST = new TreeSet<>(List.of(0, 1, 2, 3, 4));

  @TempDir Path dir;
  private DrivingFixture f;
  private InternVlModel a;
  private InternVlModel b;
  private InternVlModel student;

  @BeforeEach
  void setUp() throws Exception {
    f = new DrivingFixture(Files.createDirectories(dir.resolve("data")));
    a = f.teacher(2);
    b = f.teacher(3);
    student = f.model("student-tiny", 1);
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
    student.close();
  }

  private TeacherTargetPrecomputer.Builder precomputer(TeacherPanel panel) {
    return TeacherTargetPrecomputer.builder()
        .setTeachers(panel)
        .setStudent(student.card())
        .setEncoder(f.encoder(student.card()));
  }

  private static TeacherPanel panel(VisionLanguageModel p, VisionLanguageModel r) {
    Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
    roles.put(Capability.PERCEPTION, p);
    roles.put(Capability.REASONING, r);
    roles.put(Capability.PLANNING, p);
    return TeacherPanel.of(roles);
  }

  @Test
  void eachDistinctTeacherRunsOncePerSampleWithTheUnionOfItsLayers() {
    DrivingFixture.CountingModel perceiver = new DrivingFixture.CountingModel(a);
    DrivingFixture.CountingModel reasoner = new DrivingFixture.CountingModel(b);
    List<PrecomputeProgress> progress = new ArrayList<>();
    CacheIndex index =
        precomputer(panel(perceiver, reasoner))
            .optTeacherIdentity(perceiver, "perceiver", WeightsFingerprint.of(a))
            .optTeacherIdentity(reasoner, "reasoner", WeightsFingerprint.of(b))
            .optSamplesPerChunk(4)
            .optProgressInterval(Duration.ZERO)
            .optProgressListener(progress::add)
            .build()
            .precompute(f.dataset, dir.resolve("cache"));

    // student 4 layers, teacher 6: perception layer 0, planning layer 4 (-2), reasoning 0..4
    assertEquals(Collections.nCopies(6, new TreeSet<>(List.of(0, 4))), perceiver.requests);
    assertEquals(Collections.nCopies(6, ALL_BUT_LAST), reasoner.requests);

    List<String> entries = new ArrayList<>();
    index.recipe().entries().forEach(e -> entries.add(e.toString()));
    assertEquals(
        List.of(
            "perceiver/p:first_att_Atv/layer 0 (TEXT_TO_VISION)",
            "reasoner/r:intermediate/layer 0 (FULL_MAP)",
            "reasoner/r:intermediate/layer 1 (FULL_MAP)",
            "reasoner/r:intermediate/layer 2 (FULL_MAP)",
            "reasoner/r:intermediate/layer 3 (FULL_MAP)",
            "reasoner/r:intermediate/layer 4 (FULL_MAP)",
            "perceiver/d:penult_att_Atv/layer 4 (TEXT_TO_VISION)"),
        entries);
    assertEquals(
        List.of(
            new TeacherIdentity("perceiver", WeightsFingerprint.of(a), 6),
            new TeacherIdentity("reasoner", WeightsFingerprint.of(b), 6)),
        index.recipe().teachers());
    assertEquals(DataFingerprint.sha256(f.dataset.sourceFile()), index.datasetFingerprint());
    assertEquals(CacheIndex.VERSION, index.version());
    assertEquals(6, index.samples());
    assertEquals(List.of(4, 2), index.chunks().stream().map(c -> c.samples().size()).toList());
    CachedPanel panel = index.panel();
    assertEquals(student.card(), panel.student());
    assertEquals(Map.of("perceiver", a.card(), "reasoner", b.card()), panel.teachers());
    Map<String, String> roles = new LinkedHashMap<>();
    roles.put("perception", "perceiver");
    roles.put("reasoning", "reasoner");
    roles.put("planning", "perceiver");
    assertEquals(roles, panel.roles());

    assertEquals(6, progress.size());
    for (int i = 0; i < 6; i++) {
      assertEquals(i + 1, progress.get(i).done());
      assertEquals(6, progress.get(i).total());
    }
    PrecomputeProgress last = progress.get(5);
    assertEquals(Duration.ZERO, last.remaining());
    assertTrue(last.line().startsWith("teacher targets 6/6 (100.0%), "), last.line());
    assertTrue(last.line().endsWith(" elapsed, ETA 0s"), last.line());
    long perSample = 0;
    try (TeacherTargetCache cache = TeacherTargetCache.open(dir.resolve("cache"))) {
      for (int s = 0; s < 6; s++) {
        for (CachedTarget t : cache.read(s).targets().values()) {
          perSample += 4L * t.values().length;
        }
      }
    }
    assertEquals(perSample, last.targetBytes(), "bytes of every target written");
  }

  @Test
  void storedTargetsAreTheLiveMapsCutToWhatTheLossReads() {
    Path cacheDir = dir.resolve("cache");
    precomputer(panel(a, b)).build().precompute(f.dataset, cacheDir);
    BatchEncoder encoder = f.encoder(student.card());
    try (TeacherTargetCache cache = TeacherTargetCache.open(cacheDir);
        NDManager m = NDManager.newBaseManager()) {
      for (int s : new int[] {0, 3, 5}) {
        VlmBatch batch =
            encoder.encodeSamples(m, List.of(f.dataset.get(s)), BatchEncoder.PromptMode.TRAINING);
        CachedSample got = cache.read(s, batch.layout(), 0);
        int len = batch.layout().length(0);
        int vision = batch.layout().imageTokenCount(0);
        assertEquals(16, vision, "one image of 16 tokens");
        // same card name, so the second teacher is named apart
        CachedTarget planning = got.target(new TargetKey("teacher-small", "d:penult_att_Atv", 4));
        CachedTarget reasoning = got.target(new TargetKey("teacher-small#2", "r:intermediate", 2));
        assertEquals(len - vision, planning.rows());
        assertEquals(vision, planning.cols());
        assertEquals(len, reasoning.rows());
        assertEquals(len, reasoning.cols());

        float[] liveA = headAveraged(a, batch, 4);
        float[] liveB = headAveraged(b, batch, 2);
        assertArrayEquals(liveB, reasoning.values(), 0f, "full map, sample " + s);
        int[] text = TextVisionBlock.textPositions(batch.layout(), 0);
        int[] image = TextVisionBlock.visionPositions(batch.layout(), 0);
        float sum = 0;
        for (int r = 0; r < text.length; r++) {
          for (int c = 0; c < image.length; c++) {
            float want = liveA[text[r] * len + image[c]];
            assertEquals(want, planning.values()[r * vision + c], 0f);
            sum += want;
          }
        }
        assertTrue(sum > 0.1f, "text attends to the image: " + sum);
      }
    }
  }

  private static float[] headAveraged(InternVlModel teacher, VlmBatch batch, int layer) {
    try (NDArray map =
        teacher
            .forward(batch, ForwardRequest.attentionOf(layer), false)
            .attention()
            .headAveraged(layer)) {
      return map.toFloatArray();
    }
  }

  @Test
  void oneTeacherForEveryRoleRunsOnceAndCachingCanLeaveATeacherOut() {
    DrivingFixture.CountingModel single = new DrivingFixture.CountingModel(a);
    CacheIndex index =
        precomputer(TeacherPanel.single(single))
            .optTeacherIdentity(single, "InternVL3-8B", "sha-of-files")
            .build()
            .precompute(f.dataset, dir.resolve("single"));
    assertEquals(Collections.nCopies(6, ALL_BUT_LAST), single.requests);
    assertEquals(7, index.recipe().entries().size());
    assertEquals(
        List.of(new TeacherIdentity("InternVL3-8B", "sha-of-files", 6)), index.recipe().teachers());

    DrivingFixture.CountingModel perceiver = new DrivingFixture.CountingModel(a);
    DrivingFixture.CountingModel reasoner = new DrivingFixture.CountingModel(b);
    CacheIndex partial =
        precomputer(panel(perceiver, reasoner))
            .optTeacherIdentity(perceiver, "perceiver", "w-a")
            .optTeacherIdentity(reasoner, "reasoner", "w-b")
            .optCapabilities(Set.of(Capability.PERCEPTION, Capability.PLANNING))
            .build()
            .precompute(f.dataset, dir.resolve("partial"));
    assertEquals(6, perceiver.requests.size());
    assertEquals(0, reasoner.requests.size(), "a teacher left out is never run");
    assertEquals(
        Map.of("perception", "perceiver", "planning", "perceiver"), partial.panel().roles());
    assertEquals(2, partial.recipe().entries().size());
  }

  @Test
  void setUpErrorsAreClear() {
    // a model whose weights cannot be listed needs an explicit identity
    DrivingFixture.CountingModel opaque = new DrivingFixture.CountingModel(a);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> precomputer(TeacherPanel.single(opaque)).build());
    assertTrue(e.getMessage().contains("give its weights fingerprint explicitly"), e.getMessage());

    // a teacher that would not see the student's sequences is refused before any forward
    try (InternVlModel stranger =
        InternVlModel.create(
            InternVlConfig.preset("teacher-small").withTokenizer("another-tokenizer"),
            Device.cpu(),
            2)) {
      IllegalArgumentException t =
          assertThrows(
              IllegalArgumentException.class,
              () -> precomputer(TeacherPanel.single(stranger)).build());
      assertTrue(t.getMessage().contains("would not see the same token sequence"), t.getMessage());
    }

    // a failing sample is named, and no folder of the cache's name is made: the unfinished
    // cache stays in <cache>.partial, without an index, until the next precompute removes it
    Path cacheDir = dir.resolve("broken");
    ModelCard card = student.card();
    BatchEncoder tooShort =
        BatchEncoder.builder()
            .setTokenizer(f.tokenizer)
            .setModel(card)
            .optMaxLength(8, BatchEncoder.Truncation.FAIL)
            .build();
    TeacherTargetPrecomputer p =
        TeacherTargetPrecomputer.builder()
            .setTeachers(TeacherPanel.single(a))
            .setStudent(card)
            .setEncoder(tooShort)
            .build();
    IllegalStateException s =
        assertThrows(IllegalStateException.class, () -> p.precompute(f.dataset, cacheDir));
    assertTrue(s.getMessage().startsWith("sample 0 (record 0 of "), s.getMessage());
    assertFalse(Files.exists(cacheDir));
    Path partial = dir.resolve("broken" + TeacherTargetPrecomputer.PARTIAL_SUFFIX);
    assertTrue(Files.isDirectory(partial));
    assertFalse(Files.exists(partial.resolve(CacheIndex.FILE_NAME)));
    // the next precompute starts over and renames a finished cache into place
    CacheIndex index =
        TeacherTargetPrecomputer.builder()
            .setTeachers(TeacherPanel.single(a))
            .setStudent(card)
            .setEncoder(f.encoder(card))
            .build()
            .precompute(f.dataset, cacheDir);
    assertEquals(f.dataset.size(), index.samples());
    assertTrue(Files.exists(cacheDir.resolve(CacheIndex.FILE_NAME)));
    assertFalse(Files.exists(partial));
  }

  @Test
  void weightsFingerprintFollowsTheValues() throws Exception {
    String fa = WeightsFingerprint.of(a);
    assertEquals(64, fa.length());
    try (InternVlModel again = f.teacher(2)) {
      assertEquals(fa, WeightsFingerprint.of(again), "same seed, same weights");
    }
    assertNotEquals(fa, WeightsFingerprint.of(b));
    Path saved = dir.resolve("saved");
    a.save(saved);
    try (InternVlModel loaded = InternVlModel.load(saved, Device.cpu())) {
      assertEquals(fa, WeightsFingerprint.of(loaded), "saved and loaded");
    }
    Map<String, NDArray> named = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : a.namedParameters().entrySet()) {
      named.put(e.getKey(), e.getValue().getArray());
    }
    assertEquals(fa, WeightsFingerprint.of(named));
    assertEquals(fa, WeightsFingerprint.of(named, 100), "row slices hash as the whole tensor");
    // one value changed
    Parameter first = a.namedParameters().values().iterator().next();
    NDArray w = first.getArray();
    float[] values = w.toFloatArray();
    values[values.length - 1] += 1f;
    w.set(values);
    assertNotEquals(fa, WeightsFingerprint.of(a));
  }
}
