package dev.drivekd.core.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-built block cases (method.md 6.3-6.4), with the path-leak bug fixed. */
class PromptBuilderTest {

  private static TextBlock t(String text, boolean mask) {
    return new TextBlock(text, mask);
  }

  @Test
  void markers() {
    assertEquals("<|im_start|>user\nhi<|im_end|>\n", ChatMarkers.user("hi"));
    assertEquals("<|im_start|>assistant\nok<|im_end|>\n", ChatMarkers.assistant("ok"));
    assertEquals("<img>", ChatMarkers.IMG_START);
    assertEquals("</img>", ChatMarkers.IMG_END);
    assertEquals("<|im_start|>assistant\n", ChatMarkers.ASSISTANT_START);
  }

  @Test
  void textBetweenImagesIsKeptAndPathsDoNotLeak() {
    List<ContentBlock> blocks =
        PromptBuilder.training(
            "L: <image_path>l.jpg</image_path> R: <image_path>r.jpg</image_path> ?", "A");
    assertEquals(
        List.of(
            t("<|im_start|>user\nL: ", false),
            t("<img>", false),
            new ImageBlock("l.jpg", false),
            t("</img>", false),
            t(" R: ", false),
            t("<img>", false),
            new ImageBlock("r.jpg", false),
            t("</img>", false),
            t(" ?<|im_end|>\n", false),
            t("<|im_start|>assistant\nA<|im_end|>\n", true)),
        blocks);
  }

  @Test
  void backToBackImagesGiveEmptyTextBlocks() {
    List<ContentBlock> blocks =
        PromptBuilder.resolve("<image_path>a</image_path><image_path>b</image_path>", false);
    assertEquals(
        List.of(
            t("", false),
            t("<img>", false),
            new ImageBlock("a", false),
            t("</img>", false),
            t("", false),
            t("<img>", false),
            new ImageBlock("b", false),
            t("</img>", false),
            t("", false)),
        blocks);
    assertEquals(List.of("a", "b"), PromptBuilder.imagePaths(blocks));
  }

  @Test
  void openEndedHasNoAnswerAndNoSupervisedBlock() {
    List<ContentBlock> blocks = PromptBuilder.openEnded("<image_path>a</image_path>Q");
    assertEquals(t("Q<|im_end|>\n<|im_start|>assistant\n", false), blocks.get(blocks.size() - 1));
    assertTrue(blocks.stream().noneMatch(ContentBlock::lossMask));
  }

  @Test
  void literalImgTagIsTheFallbackOnlyWithoutImagePathTags() {
    assertEquals(
        List.of(
            t("x ", false),
            t("<img>", false),
            new ImageBlock("<img>p</img>", false),
            t("</img>", false),
            t(" y", false)),
        PromptBuilder.resolve("x <img>p</img> y", false));
    List<ContentBlock> mixed =
        PromptBuilder.resolve("<img>p</img><image_path>q</image_path>", false);
    assertEquals(List.of("q"), PromptBuilder.imagePaths(mixed));
    assertEquals(t("<img>p</img>", false), mixed.get(0));
  }

  @Test
  void tagsDoNotSpanNewlinesLikePythonDot() {
    assertEquals(
        List.of(t("<image_path>a\nb</image_path>", false)),
        PromptBuilder.resolve("<image_path>a\nb</image_path>", false));
    // Only '\n' ends a line for Python's '.', so '\r' inside a path still matches.
    assertEquals(
        List.of("a\rb"),
        PromptBuilder.imagePaths(PromptBuilder.resolve("<image_path>a\rb</image_path>", false)));
  }

  @Test
  void imagesInTheAnswerAreMaskedButStillUnlabelled() {
    List<ContentBlock> blocks = PromptBuilder.training("Q", "see <image_path>a</image_path>");
    ImageBlock image = (ImageBlock) blocks.get(3);
    assertTrue(image.lossMask());
    assertEquals(ContentBlock.IGNORE_LABEL, image.label());
    assertEquals(-100, image.label());
    assertFalse(blocks.get(0).lossMask());
  }
}
