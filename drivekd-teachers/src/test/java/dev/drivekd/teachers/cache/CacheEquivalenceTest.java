package dev.drivekd.teachers.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.AttentionSignal;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.loss.AttentionLoss;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cached targets give the capability losses exactly the values of the live teacher maps, on a real
 * padded batch of the demo data: text-to-vision blocks for perception and planning (and the causal
 * option), full maps for reasoning over grouped layers.
 */
class CacheEquivalenceTest {

  private static final int STUDENT_DEPTH = 4;
  private static final int TEACHER_DEPTH = 6;

  @TempDir Path dir;
  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  /** Random row-stochastic-looking maps {@code [B, L, L]} per layer, padding filled too. */
  private List<NDArray> randomMaps(TokenLayout layout, int depth, long seed) {
    Random random = new Random(seed);
    int n = layout.paddedLength();
    List<NDArray> maps = new ArrayList<>();
    for (int l = 0; l < depth; l++) {
      float[] v = new float[layout.batchSize() * n * n];
      for (int i = 0; i < v.length; i++) {
        v[i] = random.nextFloat() / n;
      }
      maps.add(manager.create(v, new Shape(layout.batchSize(), n, n)));
    }
    return maps;
  }

  @Test
  void cachedTargetsGiveTheLiveLosses() {
    TokenLayout layout = DemoLayouts.batch(1, 4); // six cameras, and a shorter single-image prompt
    assertEquals(2, layout.batchSize());
    assertNotEquals(layout.length(0), layout.length(1), "the batch is padded");
    assertTrue(layout.imageTokenCount(0) > 0 && layout.imageTokenCount(1) > 0);

    List<NDArray> studentMaps = randomMaps(layout, STUDENT_DEPTH, 1);
    List<NDArray> teacherMaps = randomMaps(layout, TEACHER_DEPTH, 2);
    LayerMaps student = LayerMaps.ofHeadAveraged(studentMaps);
    LayerMaps liveTeacher = LayerMaps.ofHeadAveraged(teacherMaps);

    TeacherIdentity teacher = new TeacherIdentity("teacher-8b", "sha256:feed", TEACHER_DEPTH);
    CapabilitySignalLoss perception = CapabilitySignalLoss.perception();
    CapabilitySignalLoss planning = CapabilitySignalLoss.planning();
    CapabilitySignalLoss reasoning = CapabilitySignalLoss.reasoning();
    CapabilitySignalLoss causal =
        CapabilitySignalLoss.of(
            "d:causal", AttentionSignal.penultimateLayer(), AttentionLoss.causalMaskedMse());
    SortedSet<Integer> reasoningLayers =
        AttentionSignal.intermediate(LayerRange.defaults())
            .teacherLayers(STUDENT_DEPTH, TEACHER_DEPTH);
    assertEquals(List.of(0, 1, 2, 3, 4), List.copyOf(reasoningLayers));
    CacheRecipe recipe =
        CacheRecipe.builder()
            .addTeacher(teacher)
            .add(teacher.name(), perception.key(), 0, TargetKind.TEXT_TO_VISION)
            .add(teacher.name(), planning.key(), TEACHER_DEPTH - 2, TargetKind.TEXT_TO_VISION)
            .add(teacher.name(), causal.key(), TEACHER_DEPTH - 2, TargetKind.TEXT_TO_VISION)
            .addLayers(teacher.name(), reasoning.key(), reasoningLayers, TargetKind.FULL_MAP)
            .build();

    int[] datasetIndex = {1, 4};
    try (TeacherTargetCacheWriter writer =
        TeacherTargetCacheWriter.builder(dir, recipe, "data-sha").create()) {
      for (int b = 0; b < 2; b++) {
        SampleTargets targets = SampleTargets.of(datasetIndex[b], layout, b);
        for (CacheRecipe.Entry e : recipe.entries()) {
          targets.cut(teacherMaps.get(e.layer()), e.key(), e.kind());
        }
        writer.append(targets);
      }
      writer.finish();
    }

    try (TeacherTargetCache cache = TeacherTargetCache.open(dir, recipe, "data-sha")) {
      List<CachedSample> batch = List.of(cache.read(1, layout, 0), cache.read(4, layout, 1));
      for (CapabilitySignalLoss loss : List.of(perception, planning, causal, reasoning)) {
        LayerMaps cached = CachedTeacherMaps.of(batch, teacher, loss.key(), layout, manager);
        float[] live = loss.perSample(student, liveTeacher, layout).toFloatArray();
        float[] fromCache = loss.perSample(student, cached, layout).toFloatArray();
        assertTrue(live[0] > 0 && live[1] > 0, loss + " " + Arrays.toString(live));
        assertArrayEquals(live, fromCache, 0f, loss.toString());
      }
      // The cached block is not the whole map: the placed map differs from the live one.
      NDArray placed =
          CachedTeacherMaps.of(batch, teacher, perception.key(), layout, manager).headAveraged(0);
      assertNotEquals(
          Arrays.toString(teacherMaps.get(0).toFloatArray()),
          Arrays.toString(placed.toFloatArray()));
      CachedTarget block = batch.get(0).target(new TargetKey(teacher.name(), perception.key(), 0));
      assertEquals(layout.length(0) - layout.imageTokenCount(0), block.rows());
      assertEquals(layout.imageTokenCount(0), block.cols());
    }
  }

  @Test
  void cutAndPlaceByHand() {
    // Positions: t t v v t (sample 0, L = 5), t v t (sample 1, padded to 5).
    TokenLayout layout =
        TokenLayout.of(
            new boolean[][] {{false, false, true, true, false}, {false, true, false, false, false}},
            new boolean[][] {
              {false, false, false, false, true}, {false, false, true, false, false}
            },
            new int[] {5, 3});
    float[] v = new float[2 * 25];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    NDArray maps = manager.create(v, new Shape(2, 5, 5));
    TargetKey key = new TargetKey("t", "s", 0);
    CachedTarget a = TextVisionBlock.cut(maps, layout, 0, key, TargetKind.TEXT_TO_VISION);
    // rows 0, 1, 4; cols 2, 3
    assertEquals(3, a.rows());
    assertEquals(2, a.cols());
    assertArrayEquals(new float[] {2, 3, 7, 8, 22, 23}, a.values());
    CachedTarget b = TextVisionBlock.cut(maps, layout, 1, key, TargetKind.TEXT_TO_VISION);
    assertArrayEquals(new float[] {26, 36}, b.values()); // rows 0, 2; col 1
    CachedTarget full = TextVisionBlock.cut(maps, layout, 1, key, TargetKind.FULL_MAP);
    assertArrayEquals(new float[] {25, 26, 27, 30, 31, 32, 35, 36, 37}, full.values());

    float[] placed = TextVisionBlock.place(List.of(a, b), layout, manager).toFloatArray();
    float[] expected = new float[50];
    for (int[] rc : new int[][] {{0, 2}, {0, 3}, {1, 2}, {1, 3}, {4, 2}, {4, 3}}) {
      expected[rc[0] * 5 + rc[1]] = rc[0] * 5 + rc[1];
    }
    expected[25 + 1] = 26;
    expected[25 + 2 * 5 + 1] = 36;
    assertArrayEquals(expected, placed);
  }
}
