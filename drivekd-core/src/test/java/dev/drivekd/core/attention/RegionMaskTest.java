package dev.drivekd.core.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pair masks built on the device equal the definition; one per region and step is shared. */
class RegionMaskTest {

  /** A random padded layout: per sample a length, vision positions anywhere in it. */
  private static TokenLayout random(Random r, int batch, int length) {
    boolean[][] image = new boolean[batch][length];
    boolean[][] supervised = new boolean[batch][length];
    int[] lengths = new int[batch];
    for (int b = 0; b < batch; b++) {
      lengths[b] = 1 + r.nextInt(length);
      for (int i = 0; i < lengths[b]; i++) {
        image[b][i] = r.nextInt(3) == 0;
      }
    }
    return TokenLayout.of(image, supervised, lengths);
  }

  /** The definition, element by element (method.md 1.3-1.4). */
  private static boolean expected(TokenLayout l, PairRegion region, int b, int i, int j) {
    if (!l.isValid(b, i) || !l.isValid(b, j)) {
      return false;
    }
    return switch (region) {
      case FULL_MAP -> true;
      case TEXT_TO_VISION -> l.isText(b, i) && l.isImage(b, j);
      case TEXT_TO_VISION_CAUSAL -> l.isText(b, i) && l.isImage(b, j) && j <= i;
    };
  }

  @Test
  void everyRegionEqualsItsDefinitionOnRandomPaddedLayouts() {
    Random r = new Random(3);
    try (NDManager m = NDManager.newBaseManager()) {
      for (int trial = 0; trial < 20; trial++) {
        TokenLayout l = random(r, 1 + r.nextInt(3), 1 + r.nextInt(12));
        int n = l.paddedLength();
        for (PairRegion region : PairRegion.values()) {
          boolean[] got = region.mask(l, m).toBooleanArray();
          boolean[] want = new boolean[got.length];
          for (int b = 0; b < l.batchSize(); b++) {
            for (int i = 0; i < n; i++) {
              for (int j = 0; j < n; j++) {
                want[(b * n + i) * n + j] = expected(l, region, b, i, j);
              }
            }
          }
          assertArrayEquals(want, got, region + " trial " + trial);
        }
      }
    }
  }

  @Test
  void aStepBuildsEachRegionMaskOnceAndAnotherStepItsOwn() {
    TokenLayout l = random(new Random(5), 2, 9);
    try (NDManager base = NDManager.newBaseManager()) {
      NDManager step = base.newSubManager();
      NDArray first;
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        first = l.regionMask(PairRegion.TEXT_TO_VISION, step, DataType.FLOAT32);
      }
      assertFalse(first.isReleased(), "a loss's scope does not close the shared mask");
      int arrays = step.getManagedArrays().size();
      assertSame(first, l.regionMask(PairRegion.TEXT_TO_VISION, step, DataType.FLOAT32));
      assertEquals(arrays, step.getManagedArrays().size(), "nothing built the second time");
      assertNotSame(first, l.regionMask(PairRegion.FULL_MAP, step, DataType.FLOAT32));
      assertEquals(DataType.FLOAT32, first.getDataType());
      assertArrayEquals(
          PairRegion.TEXT_TO_VISION.mask(l, base).toType(DataType.FLOAT32, false).toFloatArray(),
          first.toFloatArray());
      step.close();
      NDManager next = base.newSubManager();
      NDArray again = l.regionMask(PairRegion.TEXT_TO_VISION, next, DataType.FLOAT32);
      assertNotSame(first, again);
      assertFalse(again.isReleased());
      next.close();
    }
  }
}
