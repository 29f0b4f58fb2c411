package dev.drivekd.core.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-built placeholder cases (method.md 6.3). */
class ImagePlaceholdersTest {

  @Test
  void eachPathReplacesTheFirstRemainingPlaceholder() {
    PlaceholderInjection r = ImagePlaceholders.inject("A <image> B <image> C", List.of("a", "b"));
    assertEquals("A <image_path>a</image_path> B <image_path>b</image_path> C", r.text());
    assertEquals(List.of(0, 1), r.usedImages());
    assertEquals(List.of(), r.droppedImages());
    assertEquals(0, r.leftoverPlaceholders());
  }

  @Test
  void emptyPathsAreSkippedAndSurplusImagesDropped() {
    PlaceholderInjection r = ImagePlaceholders.inject("<image>?", List.of("", "a", "b", "c"));
    assertEquals("<image_path>a</image_path>?", r.text());
    assertEquals(List.of(1), r.usedImages());
    assertEquals(List.of(2, 3), r.droppedImages());
  }

  @Test
  void surplusPlaceholdersStayLiteral() {
    PlaceholderInjection r = ImagePlaceholders.inject("<image><image><image>", List.of("a"));
    assertEquals("<image_path>a</image_path><image><image>", r.text());
    assertEquals(2, r.leftoverPlaceholders());
  }

  @Test
  void withoutPlaceholdersAllImagesArePrepended() {
    PlaceholderInjection r = ImagePlaceholders.inject("Q", List.of("a", "", "b"));
    assertEquals("<image_path>a</image_path><image_path>b</image_path>Q", r.text());
    assertEquals(List.of(0, 2), r.usedImages());
    assertEquals(List.of(), r.droppedImages());
  }

  @Test
  void noImagesLeavesTheQuestionAlone() {
    PlaceholderInjection r = ImagePlaceholders.inject("<image> Q", List.of());
    assertEquals("<image> Q", r.text());
    assertEquals(1, r.leftoverPlaceholders());
  }

  @Test
  void literalImagePathTagPreventsPrependingLikeTheReference() {
    // No placeholder, but the text already has an <image_path> tag: the reference neither
    // injects nor prepends, so the listed images are all dropped.
    PlaceholderInjection r =
        ImagePlaceholders.inject("<image_path>x</image_path> Q", List.of("a", "b"));
    assertEquals("<image_path>x</image_path> Q", r.text());
    assertEquals(List.of(0, 1), r.droppedImages());
  }

  @Test
  void pathContainingAPlaceholderIsConsumedNextLikePythonReplace() {
    PlaceholderInjection r = ImagePlaceholders.inject("<image> <image>", List.of("<image>", "b"));
    assertEquals("<image_path><image_path>b</image_path></image_path> <image>", r.text());
  }
}
