package dev.drivekd.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.data.UnknownTypePolicy;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.PromptBuilder;
import dev.drivekd.core.prompt.TextBlock;
import dev.drivekd.testing.ReferenceFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Word-level tokenizer: pre-tokenisation, vocabulary order, options, round trip, JSON format. */
class WordTokenizerTest {

  @Test
  void preTokenisationKeepsMarkersWhitespaceAndSplitsPunctuation() {
    WordPreTokenizer pre = WordPreTokenizer.withDefaultMarkers();
    assertEquals(
        List.of(
            "<|im_start|>",
            "user",
            "\n",
            "Is",
            " ",
            "<",
            "c1",
            ",",
            "CAM_FRONT",
            ",",
            "0",
            ".",
            "46",
            ">",
            "  ",
            "ok",
            "?",
            "<|im_end|>",
            "\n"),
        pre.split("<|im_start|>user\nIs <c1,CAM_FRONT,0.46>  ok?<|im_end|>\n"));
    assertEquals(List.of("<img>", "</img>", "<", "image", ">"), pre.split("<img></img><image>"));
    assertEquals(List.of("naïve", " ", "😀", "😀"), pre.split("naïve 😀😀"));
    assertEquals(List.of(), pre.split(""));
    // a marker inside a word still splits it
    assertEquals(List.of("a", "<|im_end|>", "b"), pre.split("a<|im_end|>b"));
  }

  @Test
  void vocabularyOrderIsControlMarkersThenCountThenString() {
    WordTokenizer tok = WordTokenizer.builder().addText("b a b c").addText("c b").build();
    // counts: " " 3, b 3, c 2, a 1; ties by String order (" " < "b")
    assertEquals(
        List.of(
            "<pad>",
            "<unk>",
            "<IMG_CONTEXT>",
            "<|im_start|>",
            "<|im_end|>",
            "<img>",
            "</img>",
            " ",
            "b",
            "c",
            "a"),
        tok.vocabulary());
    assertEquals(0, tok.padId());
    assertEquals(1, tok.unkId());
    assertEquals(2, tok.imageTokenId());
    assertEquals(4, tok.endOfTurnId().getAsLong());
    assertEquals(11, tok.vocabularySize());
    assertArrayEquals(new long[] {8, 7, 10, 7, 1, 4}, tok.encode("b a zz<|im_end|>"));
  }

  @Test
  void minFrequencyAndMaxSize() {
    WordTokenizer.Builder b = WordTokenizer.builder().addText("x x x y y z").optMinFrequency(2);
    assertEquals(List.of(" ", "x", "y"), tok(b.build()));
    assertEquals(List.of(" ", "x"), tok(b.optMaxSize(9).build()));
    assertThrows(IllegalArgumentException.class, () -> b.optMaxSize(6).build());
    assertThrows(IllegalArgumentException.class, () -> b.optMinFrequency(0));
  }

  private static List<String> tok(WordTokenizer t) {
    return t.vocabulary().subList(7, t.vocabularySize());
  }

  @Test
  void roundTripIsLosslessWhenEveryPieceIsKnown() {
    List<ContentBlock> blocks =
        PromptBuilder.training(
            "Front: <image_path>f.jpg</image_path> What is <c1,CAM_FRONT,0.4678,0.6772> doing?",
            "Final: {A. Going ahead.}");
    WordTokenizer tok = WordTokenizer.builder().addBlocks(blocks).build();
    for (ContentBlock block : blocks) {
      if (block instanceof TextBlock text) {
        long[] ids = tok.encode(text.text());
        assertEquals(text.text(), tok.decode(ids));
        for (long id : ids) {
          assertNotEquals(tok.unkId(), id);
        }
      }
    }
    assertArrayEquals(new long[] {5}, tok.encode("<img>"));
    assertArrayEquals(new long[] {6}, tok.encode("</img>"));
  }

  @Test
  void unknownWordsAndControlTokensInText() {
    WordTokenizer tok = WordTokenizer.builder().addText("the car").build();
    long[] ids = tok.encode("the bus <pad>");
    // all counts 1, so by String order: " " 7, car 8, the 9
    // the, " ", <unk>, " ", "<" unk, "pad" unk, ">" unk: literal control names are plain text
    assertArrayEquals(new long[] {9, 7, 1, 7, 1, 1, 1}, ids);
    assertEquals("the  ", tok.decode(ids));
    assertEquals("the car", tok.decode(new long[] {0, 2, 2, 9, 7, 8, 0, 0}));
    assertThrows(IllegalArgumentException.class, () -> tok.decode(new long[] {99}));
  }

  @Test
  void lowercasingOption() {
    WordTokenizer tok = WordTokenizer.builder().optLowercase(true).addText("The THE the").build();
    // "the" seen 3 times, " " twice
    assertEquals(7, tok.id("the").getAsLong());
    assertEquals(8, tok.id(" ").getAsLong());
    assertArrayEquals(new long[] {7, 8, 7}, tok.encode("tHe the"));
    assertTrue(tok.id("The").isEmpty());
    assertEquals(List.of("<|im_end|>", "the"), tok.pieces("<|im_end|>THE"));
    assertEquals("<|im_end|>the", tok.decode(tok.encode("<|im_end|>THE")));
  }

  @Test
  void saveLoadRoundTripKeepsIdsAndIdentity(@TempDir Path dir) throws IOException {
    WordTokenizer tok =
        WordTokenizer.builder().optMinFrequency(1).addText("Is the light red?\nYes.").build();
    Path file = dir.resolve("vocab.json");
    tok.save(file);
    WordTokenizer back = WordTokenizer.load(file);
    assertEquals(tok.vocabulary(), back.vocabulary());
    assertEquals(tok.identity(), back.identity());
    assertEquals(tok.canonicalJson(), back.canonicalJson());
    assertEquals(1, back.provenance().minFrequency());
    assertEquals(1, back.provenance().texts());
    assertArrayEquals(tok.encode("the light?\n"), back.encode("the light?\n"));
    assertEquals(64, tok.identity().length());
    String json = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(json.contains("\"format\" : \"drivekd-word-tokenizer\""), json);
    assertTrue(json.contains("\"version\" : 1"), json);
  }

  @Test
  void identityIsTheSha256OfTheCanonicalVocabulary() throws Exception {
    WordTokenizer a = WordTokenizer.builder().addText("a b").build();
    WordTokenizer b = WordTokenizer.builder().addText("a b").build();
    WordTokenizer c = WordTokenizer.builder().addText("a c").build();
    WordTokenizer lower = WordTokenizer.builder().optLowercase(true).addText("a b").build();
    assertEquals(a.identity(), b.identity());
    assertNotEquals(a.identity(), c.identity());
    assertNotEquals(a.identity(), lower.identity());
    byte[] digest =
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(a.canonicalJson().getBytes(StandardCharsets.UTF_8));
    assertEquals(java.util.HexFormat.of().formatHex(digest), a.identity());
    assertEquals(
        "{\"format\":\"drivekd-word-tokenizer\",\"version\":1,\"lowercase\":false,"
            + "\"markers\":[\"<|im_start|>\",\"<|im_end|>\",\"<img>\",\"</img>\"],"
            + "\"special\":{\"pad\":\"<pad>\",\"unk\":\"<unk>\",\"image\":\"<IMG_CONTEXT>\","
            + "\"endOfTurn\":\"<|im_end|>\"},\"vocabulary\":[\"<pad>\",\"<unk>\",\"<IMG_CONTEXT>\","
            + "\"<|im_start|>\",\"<|im_end|>\",\"<img>\",\"</img>\",\" \",\"a\",\"b\"]}",
        a.canonicalJson());
  }

  @Test
  void loadErrorsNameFileAndField(@TempDir Path dir) throws IOException {
    WordTokenizer tok = WordTokenizer.builder().addText("a b").build();
    Path good = dir.resolve("good.json");
    tok.save(good);
    String json = Files.readString(good, StandardCharsets.UTF_8);

    assertField(dir, json.replace("\"version\" : 1", "\"version\" : 2"), "version", "unsupported");
    assertField(dir, json.replace("drivekd-word-tokenizer", "other"), "format", "expected");
    assertField(dir, json.replace("\"b\" ]", "\"a\" ]"), "vocabulary[9]", "duplicate token");
    assertField(dir, json.replace("\"b\" ]", "\"a b\" ]"), "vocabulary[9]", "single");
    assertField(dir, json.replace("\"b\" ]", "7 ]"), "vocabulary[9]", "non-empty string");
    assertField(
        dir, json.replace("\"pad\" : \"<pad>\"", "\"pad\" : \"<none>\""), "special.pad", "not in");
    assertField(dir, json.replace("\"lowercase\" : false", "\"lowercase\" : 1"), "lowercase", "");
    assertField(dir, json.replace("\"</img>\" ],", "\"</img>\", \"<x>\" ],"), "markers[4]", "");

    Path broken = Files.writeString(dir.resolve("broken.json"), "{\"format\": ");
    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> WordTokenizer.load(broken));
    assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
    Path missing = dir.resolve("missing.json");
    e = assertThrows(TokenizerFormatException.class, () -> WordTokenizer.load(missing));
    assertEquals(missing, e.file());
  }

  private static void assertField(Path dir, String json, String field, String text)
      throws IOException {
    Path file = Files.writeString(dir.resolve("case.json"), json);
    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> WordTokenizer.load(file));
    assertEquals(field, e.field().orElse(null), e.getMessage());
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(text), e.getMessage());
  }

  @Test
  void builtFromTheDemoDatasetCoversEveryTextBlock() {
    Path demo = ReferenceFiles.dataFile("drivekd-reference-demo.json");
    DrivingDataset data =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .optUnknownTypePolicy(UnknownTypePolicy.error())
            .build()
            .read(demo);
    WordTokenizer tok = WordTokenizer.builder().addDataset(data).build();
    long textBlocks =
        data.samples().stream()
            .flatMap(x -> x.trainingPrompt().stream())
            .filter(blk -> blk instanceof TextBlock)
            .count();
    assertEquals(textBlocks, tok.provenance().texts());
    for (DrivingSample sample : data.samples()) {
      for (ContentBlock block : sample.trainingPrompt()) {
        if (block instanceof TextBlock text) {
          long[] ids = tok.encode(text.text());
          assertEquals(text.text(), tok.decode(ids));
          for (long id : ids) {
            assertNotEquals(tok.unkId(), id, text.text());
          }
        }
      }
    }
    // every chat/image marker occurrence is a single token
    long[] ids =
        tok.encode(data.get(0).trainingPrompt().get(0) instanceof TextBlock t ? t.text() : "");
    assertEquals(tok.id("<|im_start|>").getAsLong(), ids[0]);
  }
}
