package dev.drivekd.core.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Property-based tests (jqwik) of the token layout and the layer-group mapping: random batches of
 * random shapes give region masks equal to their definition on the host, of shape {@code [B, L,
 * L]}; malformed layouts are refused with an {@link IllegalArgumentException}; random depths and
 * layer ranges give a mapping with the reference's invariants, or a {@link LayerIndexException}.
 */
class LayoutPropertyTest {

  /** One sample: its valid length and, per position, image / supervised text / prompt text. */
  record Sample(int length, byte[] kinds) {}

  @Provide
  Arbitrary<List<Sample>> batches() {
    return Arbitraries.integers()
        .between(1, 24)
        .flatMap(
            padded ->
                Combinators.combine(
                        Arbitraries.integers().between(0, padded),
                        Arbitraries.bytes()
                            .between((byte) 0, (byte) 2)
                            .array(byte[].class)
                            .ofSize(padded))
                    .as(Sample::new)
                    .list()
                    .ofMinSize(1)
                    .ofMaxSize(3));
  }

  @Property(tries = 150)
  void regionMasksEqualTheirDefinition(@ForAll("batches") List<Sample> samples) {
    int batch = samples.size();
    int n = samples.get(0).kinds().length;
    boolean[][] image = new boolean[batch][n];
    long[][] labels = new long[batch][n];
    int[] lengths = new int[batch];
    for (int b = 0; b < batch; b++) {
      Sample s = samples.get(b);
      lengths[b] = s.length();
      for (int i = 0; i < n; i++) {
        labels[b][i] = TokenLayout.IGNORE_LABEL;
        if (i < s.length()) {
          image[b][i] = s.kinds()[i] == 1;
          labels[b][i] = s.kinds()[i] == 2 ? 7 : TokenLayout.IGNORE_LABEL;
        }
      }
    }
    TokenLayout layout = TokenLayout.fromLabels(image, labels, lengths);
    try (NDManager m = NDManager.newBaseManager()) {
      for (PairRegion region : PairRegion.values()) {
        NDArray mask = layout.regionMask(region, m, DataType.FLOAT32);
        assertEquals(new Shape(batch, n, n), mask.getShape());
        float[] got = mask.toFloatArray();
        float[] expected = new float[batch * n * n];
        for (int b = 0; b < batch; b++) {
          for (int i = 0; i < lengths[b]; i++) {
            for (int j = 0; j < lengths[b]; j++) {
              boolean in =
                  switch (region) {
                    case FULL_MAP -> true;
                    case TEXT_TO_VISION -> !image[b][i] && image[b][j];
                    case TEXT_TO_VISION_CAUSAL -> !image[b][i] && image[b][j] && j <= i;
                  };
              expected[(b * n + i) * n + j] = in ? 1f : 0f;
            }
          }
        }
        assertArrayEquals(expected, got, region.toString());
        // reused within a manager: the same array for every loss of a step
        assertTrue(mask == layout.regionMask(region, m, DataType.FLOAT32));
      }
    }
  }

  @Property(tries = 200)
  void malformedLayoutsAreRefusedWithAnIllegalArgument(
      @ForAll @IntRange(min = 1, max = 6) int n,
      @ForAll @IntRange(min = -2, max = 8) int length,
      @ForAll @IntRange(min = 0, max = 7) int imageAt,
      @ForAll @IntRange(min = 0, max = 7) int supervisedAt,
      @ForAll @IntRange(min = 0, max = 2) int rowsDropped) {
    boolean[][] image = {new boolean[n]};
    long[][] labels = new long[1][n];
    java.util.Arrays.fill(labels[0], TokenLayout.IGNORE_LABEL);
    if (imageAt < n) {
      image[0][imageAt] = true;
    }
    if (supervisedAt < n) {
      labels[0][supervisedAt] = 3;
    }
    int[] lengths = rowsDropped == 1 ? new int[] {length, length} : new int[] {length};
    long[][] rows = rowsDropped == 2 ? new long[0][] : labels;
    boolean valid =
        rowsDropped == 0
            && length >= 0
            && length <= n
            && (imageAt >= n || imageAt < length)
            && (supervisedAt >= n || supervisedAt < length)
            && !(imageAt < n && imageAt == supervisedAt);
    try {
      TokenLayout layout = TokenLayout.fromLabels(image, rows, lengths);
      assertTrue(valid, "accepted a malformed layout");
      assertEquals(n, layout.paddedLength());
      assertEquals(length, layout.length(0));
    } catch (IllegalArgumentException e) {
      assertTrue(!valid, "refused a valid layout: " + e.getMessage());
    }
  }

  @Property(tries = 500)
  void layerGroupsFollowTheReferenceWindow(
      @ForAll @IntRange(min = 0, max = 40) int studentDepth,
      @ForAll @IntRange(min = 0, max = 80) int teacherDepth,
      @ForAll @IntRange(min = -45, max = 45) int start,
      @ForAll @IntRange(min = -45, max = 45) int end) {
    LayerGroupMapping mapping;
    try {
      mapping = LayerGroupMapping.of(LayerRange.of(start, end), studentDepth, teacherDepth);
    } catch (LayerIndexException e) {
      assertTrue(e.side().isPresent(), "the exception says which model: " + e.getMessage());
      return;
    }
    List<Integer> student = mapping.studentIndices();
    List<Integer> teacher = mapping.teacherIndices();
    assertAscendingWithin(student, studentDepth);
    assertAscendingWithin(teacher, teacherDepth);
    List<LayerGroup> groups = mapping.groups();
    if (student.isEmpty() || teacher.isEmpty()) {
      assertTrue(groups.isEmpty());
      return;
    }
    int k = student.size();
    int m = teacher.size();
    int g = Math.max(1, m - k + 1);
    assertEquals(k, groups.size());
    List<Integer> firsts = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      LayerGroup group = groups.get(i);
      assertEquals(student.get(i), group.student());
      assertEquals(g, group.teachers().size());
      int first = teacher.indexOf(group.teachers().get(0));
      assertEquals(teacher.subList(first, first + g), group.teachers(), "contiguous teachers");
      firsts.add(first);
    }
    for (int i = 1; i < k; i++) {
      assertTrue(firsts.get(i) >= firsts.get(i - 1), "windows move forward: " + firsts);
    }
    assertEquals(0, (int) firsts.get(0));
    if (k <= m) {
      // with no more students than teachers, every teacher layer is read by some student
      assertEquals(new java.util.TreeSet<>(teacher), mapping.teacherLayersUsed());
    }
  }

  private static void assertAscendingWithin(List<Integer> indices, int depth) {
    for (int i = 0; i < indices.size(); i++) {
      assertTrue(indices.get(i) >= 0 && indices.get(i) < depth, indices + " within " + depth);
      if (i > 0) {
        assertEquals(indices.get(i - 1) + 1, (int) indices.get(i), "consecutive: " + indices);
      }
    }
  }
}
