package dev.drivekd.teachers.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.attention.AttentionSignal;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.loss.AttentionLoss;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache serves the trainer only for the run it was made for: another dataset, another recipe's
 * layers or loss region, other teacher weights or names, another student encoding, a missing role
 * or an old index without cards are refused at open with the file and field named; what it serves
 * are the live maps in the batch's manager, with the teacher's card.
 */
class CachedTeacherTargetsTest {

  @TempDir Path dir;
  private DrivingFixture f;
  private InternVlModel teacher;
  private InternVlModel student;
  private Path cacheDir;
  private Path indexFile;

  @BeforeEach
  void setUp() throws Exception {
    f = new DrivingFixture(Files.createDirectories(dir.resolve("data")));
    teacher = f.teacher(2);
    student = f.model("student-tiny", 1);
    cacheDir = dir.resolve("cache");
    indexFile = cacheDir.resolve(CacheIndex.FILE_NAME).toAbsolutePath().normalize();
    TeacherTargetPrecomputer.builder()
        .setTeachers(TeacherPanel.single(teacher))
        .setStudent(student.card())
        .setEncoder(f.encoder(student.card()))
        .build()
        .precompute(f.dataset, cacheDir);
  }

  @AfterEach
  void tearDown() {
    teacher.close();
    student.close();
  }

  private CachedTeacherTargets.Builder targets() {
    return CachedTeacherTargets.builder(cacheDir).setStudent(student.card()).setDataset(f.dataset);
  }

  private TeacherCacheException refused(
      CachedTeacherTargets.Builder builder, String field, String message) {
    TeacherCacheException e = assertThrows(TeacherCacheException.class, builder::open);
    assertEquals(indexFile, e.file(), e.getMessage());
    assertEquals(field, e.field().orElseThrow(), e.getMessage());
    assertTrue(e.getMessage().startsWith(indexFile + ": " + field + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());
    return e;
  }

  @Test
  void servesTheLiveMapsAndTheTeachersCard() {
    String weights = WeightsFingerprint.of(teacher);
    try (CachedTeacherTargets cached =
            targets()
                .optExpectedTeacher(
                    Capability.PERCEPTION, new TeacherIdentity("teacher-small", weights, 6))
                .open();
        NDManager m = NDManager.newBaseManager()) {
      assertEquals(Set.of(Capability.values()), cached.capabilities());
      for (Capability c : Capability.values()) {
        assertEquals(teacher.card(), cached.card(c), "the card comes from the index");
        assertEquals(new TeacherIdentity("teacher-small", weights, 6), cached.teacher(c));
        // what a run's provenance records: the same fingerprint live and cached
        assertEquals(Optional.of(weights), cached.weightsFingerprint(c));
        assertEquals(Optional.of(weights), TeacherPanel.single(teacher).weightsFingerprint(c));
      }
      BatchEncoder encoder = f.encoder(student.card());
      VlmBatch batch =
          encoder.encodeSamples(m, List.of(f.dataset.get(4)), BatchEncoder.PromptMode.TRAINING);
      Map<Capability, SortedSet<Integer>> layers = new EnumMap<>(Capability.class);
      layers.put(Capability.PLANNING, new TreeSet<>(List.of(4)));
      layers.put(Capability.REASONING, new TreeSet<>(List.of(0, 1, 2, 3, 4)));
      Map<Capability, LayerMaps> maps = cached.targets(4, f.dataset.get(4), batch, layers);
      assertEquals(layers.keySet(), maps.keySet());
      LayerMaps live =
          teacher.forward(batch, ForwardRequest.attentionOf(0, 1, 2, 3, 4), false).attention();
      int len = batch.layout().length(0);
      assertEquals(6, maps.get(Capability.REASONING).depth(), "the teacher's depth");
      NDArray full = maps.get(Capability.REASONING).headAveraged(3);
      assertSame(batch.manager(), full.getManager(), "maps join the batch's manager");
      assertArrayEquals(live.headAveraged(3).toFloatArray(), full.toFloatArray(), 0f);
      // the text-to-vision target: the live values on text x vision, zeros elsewhere
      float[] planning = maps.get(Capability.PLANNING).headAveraged(4).toFloatArray();
      float[] want = live.headAveraged(4).toFloatArray();
      int checked = 0;
      for (int i = 0; i < len; i++) {
        for (int j = 0; j < len; j++) {
          boolean pair = batch.layout().isText(0, i) && batch.layout().isImage(0, j);
          assertEquals(pair ? want[i * len + j] : 0f, planning[i * len + j], 0f, i + "," + j);
          checked += pair && want[i * len + j] > 0 ? 1 : 0;
        }
      }
      assertTrue(checked > 100, "non-zero text-to-vision pairs: " + checked);

      // a layer the cache lacks (the trainer got another recipe than the cache)
      TeacherCacheException e =
          assertThrows(
              TeacherCacheException.class,
              () ->
                  cached.targets(
                      4,
                      f.dataset.get(4),
                      batch,
                      Map.of(Capability.PLANNING, new TreeSet<>(List.of(3)))));
      assertEquals("recipe.entries", e.field().orElseThrow());
      assertTrue(
          e.getMessage().contains("teacher-small/d:penult_att_Atv/layer 3 (planning layers [3])"),
          e.getMessage());
      // another sample's layout
      TeacherCacheException layout =
          assertThrows(
              TeacherCacheException.class,
              () -> cached.targets(0, f.dataset.get(0), batch, layers));
      assertTrue(layout.file().getFileName().toString().startsWith("chunk-"), layout.getMessage());
      assertEquals("sample 0", layout.field().orElseThrow());

      // closing releases the mapped chunk; the source cannot be read afterwards
      CachedTeacherTargets closed = targets().open();
      assertEquals(layers.keySet(), closed.targets(4, f.dataset.get(4), batch, layers).keySet());
      closed.close();
      closed.close(); // the trainer closes its targets too: closing twice is harmless
      IllegalStateException e2 =
          assertThrows(
              IllegalStateException.class,
              () -> closed.targets(4, f.dataset.get(4), batch, layers));
      assertTrue(e2.getMessage().endsWith("the teacher-target cache is closed"), e2.getMessage());
    }
  }

  @Test
  void anotherDatasetIsRefused() throws Exception {
    String[][] samples = DrivingFixture.SAMPLES.clone();
    samples[5] =
        new String[] {"planning", "Can the ego car turn left now?", "Yes, the gap is wide."};
    DrivingFixture other =
        new DrivingFixture(Files.createDirectories(dir.resolve("other")), samples);
    refused(
        targets().setDataset(other.dataset),
        "datasetFingerprint",
        "the cache was computed on dataset ");
  }

  @Test
  void anotherRecipeIsRefusedUnlessItsEntriesAreCached() {
    DistillationRecipe paper = DistillationRecipe.paper();
    // planning at layer -3: teacher layer 3 of d:penult_att_Atv is not cached
    refused(
        targets()
            .optRecipe(
                paper.with(
                    Capability.PLANNING,
                    CapabilitySignalLoss.of(
                        CapabilitySignalLoss.PLANNING_KEY,
                        AttentionSignal.atLayer(-3),
                        AttentionLoss.maskedMse()))),
        "recipe.entries",
        "teacher-small/d:penult_att_Atv/layer 3 (TEXT_TO_VISION) is not cached");
    // a full-map perception loss needs the full map, the cache holds the text x vision block
    refused(
        targets()
            .optRecipe(
                paper.with(
                    Capability.PERCEPTION,
                    CapabilitySignalLoss.of(
                        CapabilitySignalLoss.PERCEPTION_KEY,
                        AttentionSignal.firstLayer(),
                        AttentionLoss.fullMse()))),
        "recipe.entries[0]",
        "is cached as TEXT_TO_VISION, the run needs FULL_MAP");
    // the causal option and a narrower reasoning range read what is cached
    DistillationRecipe subset =
        paper
            .with(
                Capability.PERCEPTION,
                CapabilitySignalLoss.of(
                    CapabilitySignalLoss.PERCEPTION_KEY,
                    AttentionSignal.firstLayer(),
                    AttentionLoss.causalMaskedMse()))
            .with(Capability.REASONING, CapabilitySignalLoss.reasoning(new LayerRange(1, -3)));
    targets().optRecipe(subset).open().close();
    // another student depth: the sliding groups change, the teacher layers they read (0..N_t-2)
    // do not, so the cache serves a deeper student too
    ModelCard s = student.card();
    ModelCard deeper =
        new ModelCard(
            s.name(),
            6,
            s.heads(),
            s.hiddenSize(),
            s.vocabularySize(),
            s.tokensPerImage(),
            s.imageSize(),
            s.tokenizer());
    CachedTeacherTargets.builder(cacheDir).setStudent(deeper).setDataset(f.dataset).open().close();
  }

  @Test
  void anotherTeacherIsRefused() {
    try (InternVlModel other = f.teacher(9)) {
      refused(
          targets()
              .optExpectedTeacher(
                  Capability.REASONING,
                  new TeacherIdentity("teacher-small", WeightsFingerprint.of(other), 6)),
          "recipe.teachers['teacher-small'].weightsFingerprint",
          "the cache was computed with weights " + WeightsFingerprint.of(teacher));
    }
    refused(
        targets()
            .optExpectedTeacher(
                Capability.PLANNING,
                new TeacherIdentity("InternVL3-8B", WeightsFingerprint.of(teacher), 6)),
        "panel.roles.planning",
        "the cache's planning teacher is 'teacher-small', this run expects 'InternVL3-8B'");
    refused(
        targets()
            .optExpectedTeacher(
                Capability.PERCEPTION,
                new TeacherIdentity("teacher-small", WeightsFingerprint.of(teacher), 8)),
        "recipe.teachers['teacher-small'].depth",
        "cached for 6 layers, this run's teacher has 8");
    ModelCard t = teacher.card();
    ModelCard wider =
        new ModelCard(
            t.name(),
            t.depth(),
            t.heads() * 2,
            t.hiddenSize(),
            t.vocabularySize(),
            t.tokensPerImage(),
            t.imageSize(),
            t.tokenizer());
    refused(
        targets().optExpectedCard(Capability.REASONING, wider),
        "panel.teachers['teacher-small']",
        "the cache's reasoning teacher has card " + t + ", this run expects " + wider);
    targets().optExpectedCard(Capability.REASONING, t).open().close();
  }

  @Test
  void anotherStudentEncodingIsRefused() {
    ModelCard s = student.card();
    refused(
        CachedTeacherTargets.builder(cacheDir)
            .setStudent(
                new ModelCard(
                    s.name(),
                    s.depth(),
                    s.heads(),
                    s.hiddenSize(),
                    s.vocabularySize(),
                    s.tokensPerImage(),
                    s.imageSize(),
                    "hf-tokenizer:0123"))
            .setDataset(f.dataset),
        "panel.student.tokenizer",
        ", this run's student uses hf-tokenizer:0123");
    refused(
        CachedTeacherTargets.builder(cacheDir)
            .setStudent(
                new ModelCard(
                    s.name(),
                    s.depth(),
                    s.heads(),
                    s.hiddenSize(),
                    s.vocabularySize(),
                    64,
                    s.imageSize(),
                    s.tokenizer()))
            .setDataset(f.dataset),
        "panel.student.tokensPerImage",
        "the samples were encoded with 16, this run's student has 64");
  }

  @Test
  void aMissingRoleOrAnOldIndexIsRefused() throws Exception {
    Path partial = dir.resolve("partial");
    TeacherTargetPrecomputer.builder()
        .setTeachers(TeacherPanel.single(teacher))
        .setStudent(student.card())
        .setEncoder(f.encoder(student.card()))
        .optCapabilities(Set.of(Capability.PERCEPTION, Capability.PLANNING))
        .build()
        .precompute(f.dataset, partial);
    Path partialIndex = partial.resolve(CacheIndex.FILE_NAME).toAbsolutePath().normalize();
    CachedTeacherTargets.Builder paper =
        CachedTeacherTargets.builder(partial).setStudent(student.card()).setDataset(f.dataset);
    TeacherCacheException e = assertThrows(TeacherCacheException.class, paper::open);
    assertEquals(partialIndex, e.file());
    assertEquals("panel.roles", e.field().orElseThrow());
    assertTrue(
        e.getMessage().contains("the recipe has a reasoning loss, but no cached teacher plays"),
        e.getMessage());
    // without the reasoning loss, the cache serves perception and planning
    Map<Capability, CapabilitySignalLoss> two = new EnumMap<>(Capability.class);
    two.put(Capability.PERCEPTION, CapabilitySignalLoss.perception());
    two.put(Capability.PLANNING, CapabilitySignalLoss.planning());
    try (CachedTeacherTargets cached =
        CachedTeacherTargets.builder(partial)
            .setStudent(student.card())
            .setDataset(f.dataset)
            .optRecipe(DistillationRecipe.of(two))
            .open()) {
      assertEquals(Set.of(Capability.PERCEPTION, Capability.PLANNING), cached.capabilities());
      IllegalArgumentException none =
          assertThrows(IllegalArgumentException.class, () -> cached.card(Capability.REASONING));
      assertTrue(none.getMessage().contains("no cached teacher plays reasoning"));
    }

    // an index of format version 1 has no cards: refused by name, still readable raw
    rewriteIndex(
        json -> {
          json.put("version", 1);
          json.remove("panel");
          return json;
        });
    refused(targets(), "panel", "absent: this cache (format version 1) records no teacher cards");
    try (TeacherTargetCache raw = TeacherTargetCache.open(cacheDir)) {
      assertEquals(6, raw.size());
    }
  }

  private void rewriteIndex(UnaryOperator<ObjectNode> edit) throws Exception {
    Path file = cacheDir.resolve(CacheIndex.FILE_NAME);
    ObjectNode json = (ObjectNode) TeacherTargetCacheWriter.JSON.readTree(file.toFile());
    Files.write(file, TeacherTargetCacheWriter.JSON.writeValueAsBytes(edit.apply(json)));
  }

  /** A source that records what it is asked for and returns the teacher's live maps. */
  private final class Recording implements TeacherTargets {
    final Set<Capability> serves;
    final List<Set<Capability>> asked = new ArrayList<>();
    boolean closed;

    Recording(Set<Capability> serves) {
      this.serves = serves;
    }

    @Override
    public Set<Capability> capabilities() {
      return serves;
    }

    @Override
    public ModelCard card(Capability capability) {
      return teacher.card();
    }

    @Override
    public Map<Capability, LayerMaps> targets(
        int sampleIndex,
        DrivingSample sample,
        VlmBatch batch,
        Map<Capability, SortedSet<Integer>> layers) {
      asked.add(Set.copyOf(layers.keySet()));
      LayerMaps maps = teacher.forward(batch, ForwardRequest.attentionOf(0), false).attention();
      Map<Capability, LayerMaps> out = new EnumMap<>(Capability.class);
      layers.keySet().forEach(c -> out.put(c, maps));
      return out;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void mixedTargetsAskEachSourceOnceForItsCapabilities() {
    Recording cachedLike = new Recording(Set.of(Capability.PERCEPTION, Capability.PLANNING));
    Recording liveLike = new Recording(Set.of(Capability.REASONING));
    Map<Capability, TeacherTargets> sources = new EnumMap<>(Capability.class);
    sources.put(Capability.PERCEPTION, cachedLike);
    sources.put(Capability.PLANNING, cachedLike);
    sources.put(Capability.REASONING, liveLike);
    MixedTeacherTargets mixed = MixedTeacherTargets.of(sources);
    assertEquals(Set.of(Capability.values()), mixed.capabilities());
    assertEquals(teacher.card(), mixed.card(Capability.REASONING));
    try (NDManager m = NDManager.newBaseManager()) {
      VlmBatch batch =
          f.encoder(student.card())
              .encodeSamples(m, List.of(f.dataset.get(1)), BatchEncoder.PromptMode.TRAINING);
      Map<Capability, SortedSet<Integer>> layers = new EnumMap<>(Capability.class);
      for (Capability c : Capability.values()) {
        layers.put(c, new TreeSet<>(List.of(0)));
      }
      assertEquals(
          Set.of(Capability.values()), mixed.targets(1, f.dataset.get(1), batch, layers).keySet());
      layers.remove(Capability.REASONING);
      mixed.targets(1, f.dataset.get(1), batch, layers);
    }
    assertEquals(
        List.of(
            Set.of(Capability.PERCEPTION, Capability.PLANNING),
            Set.of(Capability.PERCEPTION, Capability.PLANNING)),
        cachedLike.asked);
    assertEquals(List.of(Set.of(Capability.REASONING)), liveLike.asked, "asked only when needed");
    mixed.close();
    assertTrue(cachedLike.closed && liveLike.closed);

    Map<Capability, TeacherTargets> wrong = Map.of(Capability.REASONING, cachedLike);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MixedTeacherTargets.of(wrong));
    assertTrue(e.getMessage().contains("does not serve reasoning"), e.getMessage());
  }
}
