package dev.drivekd.core.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenLayoutTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** Sample 0: text, image, image, answer (length 4); sample 1: text, image, answer (length 3). */
  private static TokenLayout twoSamples() {
    return TokenLayout.fromSegments(
        List.of(
            List.of(TokenSegment.text(1), TokenSegment.image(2), TokenSegment.answer(1)),
            List.of(TokenSegment.text(1), TokenSegment.image(1), TokenSegment.answer(1))));
  }

  @Test
  void segmentsGivePositionsAndPadding() {
    TokenLayout layout = twoSamples();
    assertEquals(2, layout.batchSize());
    assertEquals(4, layout.paddedLength());
    assertEquals(3, layout.length(1));
    assertTrue(layout.isImage(0, 2));
    assertTrue(layout.isSupervised(1, 2));
    assertFalse(layout.isText(1, 3));
    assertFalse(layout.isValid(1, 3));
    assertEquals(4, layout.textToVisionPairCount(0));
    assertEquals(2, layout.textToVisionPairCount(1));
  }

  @Test
  void textToVisionMaskExcludesPadding() {
    try (NDManager sub = manager.newSubManager()) {
      NDArray mask = twoSamples().textToVisionMask(sub);
      assertEquals(new Shape(2, 4, 4), mask.getShape());
      assertEquals(DataType.BOOLEAN, mask.getDataType());
      boolean[] expected = {
        // sample 0: rows 0 and 3 (text) on columns 1, 2 (image)
        false, true, true, false,
        false, false, false, false,
        false, false, false, false,
        false, true, true, false,
        // sample 1: rows 0 and 2 on column 1; row 3 is padding
        false, true, false, false,
        false, false, false, false,
        false, true, false, false,
        false, false, false, false
      };
      assertArrayEquals(expected, mask.toBooleanArray());
      boolean[] causal = twoSamples().causalTextToVisionMask(sub).toBooleanArray();
      assertFalse(causal[1]); // text 0 before image 1
      assertTrue(causal[13]); // text 3 after image 1
    }
  }

  @Test
  void validMasksAndPredictionPositions() {
    try (NDManager sub = manager.newSubManager()) {
      TokenLayout layout = twoSamples();
      assertArrayEquals(
          new boolean[] {true, true, true, true, true, true, true, false},
          layout.validMask(sub).toBooleanArray());
      boolean[] pairs = layout.validPairMask(sub).toBooleanArray();
      assertEquals(16 + 9, count(pairs));
      assertArrayEquals(
          new boolean[] {false, false, true, false, false, true, false, false},
          layout.predictionMask(sub).toBooleanArray());
    }
  }

  @Test
  void labelsAndSingleSamples() {
    TokenLayout layout =
        TokenLayout.fromLabels(
            new boolean[][] {{false, true, false}, {false, false, false}},
            new long[][] {{-100, -100, 5}, {-100, 7, -100}},
            new int[] {3, 2});
    try (NDManager sub = manager.newSubManager()) {
      assertArrayEquals(
          new long[] {-100, -100, 5, -100, 7, -100}, layout.labels(sub).toLongArray());
      TokenLayout one = layout.sample(1);
      assertEquals(1, one.batchSize());
      assertEquals(2, one.paddedLength());
      assertArrayEquals(new long[] {-100, 7}, one.labels(sub).toLongArray());
    }
    assertThrows(IllegalStateException.class, () -> twoSamples().labels(manager));
  }

  @Test
  void inconsistentInputIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            TokenLayout.of(
                new boolean[][] {{false, true}}, new boolean[][] {{false, false}}, new int[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            TokenLayout.of(
                new boolean[][] {{false, true}}, new boolean[][] {{false, true}}, new int[] {2}));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            TokenLayout.of(
                new boolean[][] {{false, true}},
                new boolean[][] {{false, false}},
                new int[] {2, 2}));
    assertThrows(
        IllegalArgumentException.class,
        () -> TokenLayout.fromSegments(List.of(List.of(TokenSegment.text(5))), 3));
    assertThrows(IllegalArgumentException.class, () -> TokenSegment.image(-1));
    assertThrows(
        IllegalArgumentException.class, () -> new TokenSegment(TokenSegment.Kind.IMAGE, 3, true));
  }

  private static int count(boolean[] values) {
    int n = 0;
    for (boolean v : values) {
      n += v ? 1 : 0;
    }
    return n;
  }
}
