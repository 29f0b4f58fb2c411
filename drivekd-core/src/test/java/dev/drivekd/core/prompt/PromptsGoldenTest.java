package dev.drivekd.core.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/prompts.json} against the prompt classes directly, from the expected
 * question and the item's images; the reader path is covered in the data package.
 */
class PromptsGoldenTest {

  @TestFactory
  Stream<DynamicTest> injectionAndBlocks() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : ReferenceFiles.goldenCases("prompts.json")) {
      tests.add(DynamicTest.dynamicTest(c.path("name").asText(), () -> check(c)));
    }
    return tests.stream();
  }

  /**
   * Our blocks equal the reference's wherever its path-leak bug cannot show (at most one image in
   * each resolved turn: the reference splits the user turn and the assistant turn separately, so
   * one image in the question and a literal {@code <img>} tag in the answer leak nothing) and
   * differ from them wherever it does, with a leaked path among the reference's texts.
   */
  @TestFactory
  Stream<DynamicTest> differsFromReferenceOnlyForMultiImagePrompts() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : ReferenceFiles.goldenCases("prompts.json")) {
      tests.add(DynamicTest.dynamicTest(c.path("name").asText(), () -> compareToReference(c)));
    }
    return tests.stream();
  }

  private static void check(JsonNode c) {
    JsonNode expected = c.path("expected");
    String question = expected.path("question").asText();
    String answer = expected.path("answer").asText();
    List<String> images = imageStrings(c.path("inputs").path("item").path("images"));
    String tagged = ImagePlaceholders.inject(question, images).text();
    assertEquals(expected.path("question_after_injection").asText(), tagged);
    assertEquals(expected.path("fixed"), BlockJson.toJson(PromptBuilder.training(tagged, answer)));
    assertEquals(
        expected.path("fixed_open_ending"), BlockJson.toJson(PromptBuilder.openEnded(tagged)));
  }

  private static void compareToReference(JsonNode c) {
    JsonNode expected = c.path("expected");
    for (String[] keys :
        new String[][] {{"fixed", "reference"}, {"fixed_open_ending", "reference_open_ending"}}) {
      JsonNode fixed = expected.path(keys[0]);
      JsonNode reference = expected.path(keys[1]);
      Set<String> paths = new HashSet<>();
      int[] imagesPerTurn = new int[2]; // user turn (loss mask false), assistant turn (true)
      for (JsonNode block : fixed) {
        if ("image".equals(block.path("type").asText())) {
          paths.add(block.path("path").asText());
          imagesPerTurn[block.path("loss_mask").asBoolean() ? 1 : 0]++;
        }
      }
      if (Math.max(imagesPerTurn[0], imagesPerTurn[1]) <= 1) {
        assertEquals(reference, fixed, keys[0]);
      } else {
        assertNotEquals(reference, fixed, keys[0]);
        boolean leaked = false;
        for (JsonNode block : reference) {
          leaked |= paths.contains(block.path("text").asText());
        }
        assertTrue(leaked, "the reference should leak an image path as text");
      }
    }
  }

  /** The item's image entries that are strings; the injector itself skips empty ones. */
  private static List<String> imageStrings(JsonNode images) {
    List<String> out = new ArrayList<>();
    if (images.isArray()) {
      for (JsonNode image : images) {
        if (image.isTextual()) {
          out.add(image.textValue());
        }
      }
    }
    return out;
  }
}
