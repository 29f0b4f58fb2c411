package dev.drivekd.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.Utils;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter over DJL's tokenizers extension, on a hand-written WordLevel {@code tokenizer.json}
 * (test resources) whose post-processor would prepend {@code <s>} (id 21) if special tokens were
 * added. No network: the native library comes from the jar.
 */
class HuggingFaceTokenizerAdapterTest {

  static Path resource() {
    try {
      return Path.of(
          HuggingFaceTokenizerAdapterTest.class
              .getResource("/tokenizers/wordlevel-tokenizer.json")
              .toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static HuggingFaceTokenizerAdapter open() {
    return HuggingFaceTokenizerAdapter.builder().setTokenizerPath(resource()).build();
  }

  @Test
  void encodesEachBlockWithoutSpecialTokens() {
    try (HuggingFaceTokenizerAdapter tok = open()) {
      assertArrayEquals(
          new long[] {16, 1, 3, 10, 4, 11, 4, 7, 4, 5, 4, 6, 9, 17, 3},
          tok.encode("<|im_start|>user\nWhat color is the car?<|im_end|>\n"));
      assertArrayEquals(new long[] {18}, tok.encode("<img>"));
      assertArrayEquals(new long[] {19}, tok.encode("</img>"));
      assertArrayEquals(new long[0], tok.encode(""));
      // unknown word -> the model's unk
      assertArrayEquals(new long[] {5, 4, 0}, tok.encode("the truck"));
    }
  }

  @Test
  void longTextIsNotTruncated() {
    // DJL's default maxLength is 512; a text block must come back whole (2000 positions here).
    String text = "the car ".repeat(500);
    try (HuggingFaceTokenizerAdapter tok = open()) {
      long[] ids = tok.encode(text);
      assertEquals(2000, ids.length);
      assertEquals(4, ids[1999]);
    }
  }

  @Test
  void djlDefaultWouldAddTheTemplateBos() throws IOException {
    // Proves the fixture's post-processor is live, so the test above really checks the option.
    try (HuggingFaceTokenizer raw = HuggingFaceTokenizer.newInstance(resource(), Map.of())) {
      assertArrayEquals(new long[] {21, 5, 4, 6}, raw.encode("the car").getIds());
    }
  }

  @Test
  void specialIdsAndSize() {
    try (HuggingFaceTokenizerAdapter tok = open()) {
      assertEquals(22, tok.vocabularySize());
      assertEquals(15, tok.padId());
      assertEquals(20, tok.imageTokenId());
      assertEquals(17, tok.endOfTurnId().getAsLong());
    }
    try (HuggingFaceTokenizerAdapter tok =
        HuggingFaceTokenizerAdapter.builder()
            .setTokenizerPath(resource().getParent().resolve("wordlevel-tokenizer.json"))
            .optPadToken("<unk>")
            .optImageToken("<img>")
            .optEndOfTurnToken(null)
            .build()) {
      assertEquals(0, tok.padId());
      assertEquals(18, tok.imageTokenId());
      assertTrue(tok.endOfTurnId().isEmpty());
    }
  }

  @Test
  void decodeSkipsSpecialTokens() {
    try (HuggingFaceTokenizerAdapter tok = open()) {
      String text = "<|im_start|>assistant\nIt is red.<|im_end|>\n";
      assertEquals("assistant\nIt is red.\n", tok.decode(tok.encode(text)));
      assertEquals("the car", tok.decode(new long[] {20, 20, 5, 4, 6, 15}));
    }
  }

  @Test
  void loadsFromAFolder(@TempDir Path dir) throws IOException {
    Files.copy(resource(), dir.resolve("tokenizer.json"));
    try (HuggingFaceTokenizerAdapter tok =
            HuggingFaceTokenizerAdapter.builder().setTokenizerPath(dir).build();
        HuggingFaceTokenizerAdapter ref = open()) {
      assertEquals(dir.resolve("tokenizer.json"), tok.file());
      assertEquals(ref.identity(), tok.identity());
    }
  }

  @Test
  void identityIgnoresFormattingButNotTheVocabulary(@TempDir Path dir) throws IOException {
    String pretty = Files.readString(resource(), StandardCharsets.UTF_8);
    String compact =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .writeValueAsString(new com.fasterxml.jackson.databind.ObjectMapper().readTree(pretty));
    Path reformatted = Files.writeString(dir.resolve("compact.json"), compact);
    Path changed =
        Files.writeString(dir.resolve("changed.json"), pretty.replace("\"red\"", "\"blue\""));
    try (HuggingFaceTokenizerAdapter a = open();
        HuggingFaceTokenizerAdapter b =
            HuggingFaceTokenizerAdapter.builder().setTokenizerPath(reformatted).build();
        HuggingFaceTokenizerAdapter c =
            HuggingFaceTokenizerAdapter.builder().setTokenizerPath(changed).build()) {
      assertEquals(64, a.identity().length());
      assertEquals(a.identity(), b.identity());
      assertNotEquals(a.identity(), c.identity());
      assertArrayEquals(new long[] {8}, c.encode("blue"));
    }
  }

  @Test
  void errorsNameTheFileAndField(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("nope.json");
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () -> HuggingFaceTokenizerAdapter.builder().setTokenizerPath(missing).build());
    assertTrue(e.getMessage().startsWith(missing.toString()), e.getMessage());

    Path bad = Files.writeString(dir.resolve("bad.json"), "{\"model\": ");
    e =
        assertThrows(
            TokenizerFormatException.class,
            () -> HuggingFaceTokenizerAdapter.builder().setTokenizerPath(bad).build());
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    assertEquals(bad, e.file());

    e =
        assertThrows(
            TokenizerFormatException.class,
            () ->
                HuggingFaceTokenizerAdapter.builder()
                    .setTokenizerPath(resource())
                    .optImageToken("<image>")
                    .build());
    assertEquals("added_tokens", e.field().orElseThrow());
    assertTrue(e.getMessage().contains("\"<image>\""), e.getMessage());

    Path noModel = Files.writeString(dir.resolve("nomodel.json"), "{\"added_tokens\": []}");
    e =
        assertThrows(
            TokenizerFormatException.class,
            () -> HuggingFaceTokenizerAdapter.builder().setTokenizerPath(noModel).build());
    assertEquals("model", e.field().orElseThrow());
  }

  @Test
  void nativeLibraryComesFromTheJarOffline() throws IOException {
    try (HuggingFaceTokenizerAdapter tok = open()) {
      tok.encode("the car");
    }
    assertEquals("true", System.getProperty("ai.djl.offline"));
    // CPU flavor extracted from the jar into DJL's cache: <cache>/tokenizers/<version>-cpu-<os>
    Path cache = Utils.getEngineCacheDir("tokenizers");
    try (Stream<Path> dirs = Files.list(cache)) {
      assertTrue(
          dirs.anyMatch(
              d ->
                  d.getFileName().toString().contains("-cpu-")
                      && Files.exists(d.resolve(System.mapLibraryName("tokenizers")))),
          "no extracted CPU library under " + cache);
    }
  }
}
