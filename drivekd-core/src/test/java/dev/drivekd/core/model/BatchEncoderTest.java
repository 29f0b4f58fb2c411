package dev.drivekd.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.image.ImageLoadException;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.PromptBuilder;
import dev.drivekd.core.text.HuggingFaceTokenizerAdapter;
import dev.drivekd.core.text.WordTokenizer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hand-built prompts to exact ids, labels, vision positions, padding and pixels (method.md 1.1).
 */
class BatchEncoderTest {

  private static final int T = 3; // tokens per image
  private static final long IGNORE = -100;

  @TempDir Path root;

  private final List<ContentBlock> withImage =
      PromptBuilder.training("<image_path>a.png</image_path> Is it red?", "Yes.");
  private final List<ContentBlock> textOnly = PromptBuilder.training("Go?", "No.");
  private final ImagePipeline pipeline = ImagePipeline.imageNet(4);
  private WordTokenizer tok;

  @BeforeEach
  void setUp() throws IOException, URISyntaxException {
    tok = WordTokenizer.builder().addBlocks(withImage).addBlocks(textOnly).build();
    for (String[] copy :
        new String[][] {
          {"rgb_noise_13x9.png", "a.png"},
          {"grey_10x7.png", "b.png"},
          {"palette_9x6.png", "sub/c.png"}
        }) {
      Path target = root.resolve(copy[1]);
      Files.createDirectories(target.getParent());
      Files.copy(resource(copy[0]), target);
    }
  }

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(BatchEncoderTest.class.getResource("/images/" + name).toURI());
  }

  private long id(String token) {
    return tok.id(token).orElseThrow(() -> new AssertionError("no token " + token));
  }

  private long[] ids(String... tokens) {
    return Arrays.stream(tokens).mapToLong(this::id).toArray();
  }

  private BatchEncoder encoder() {
    return BatchEncoder.builder()
        .setTokenizer(tok)
        .setImagePipeline(pipeline)
        .setTokensPerImage(T)
        .build();
  }

  private long[] userText() {
    return ids("<|im_start|>", "user", "\n", "Go", "?", "<|im_end|>", "\n");
  }

  private long[] answerText() {
    return ids("<|im_start|>", "assistant", "\n", "No", ".", "<|im_end|>", "\n");
  }

  private static long[] concat(long[]... parts) {
    return Arrays.stream(parts).flatMapToLong(Arrays::stream).toArray();
  }

  private static long[] repeat(long v, int n) {
    long[] out = new long[n];
    Arrays.fill(out, v);
    return out;
  }

  /** The worked example of docs/data-pipeline.md, number for number. */
  @Test
  void workedExampleOfTheDocs() {
    assertEquals(
        List.of(
            "<pad>",
            "<unk>",
            "<IMG_CONTEXT>",
            "<|im_start|>",
            "<|im_end|>",
            "<img>",
            "</img>",
            "\n",
            " ",
            ".",
            "?",
            "assistant",
            "user",
            "Go",
            "Is",
            "No",
            "Yes",
            "it",
            "red"),
        tok.vocabulary());
    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = encoder().encode(manager, List.of(withImage, textOnly), root);
      assertArrayEquals(
          new long[] {
            3, 12, 7, 5, 2, 2, 2, 6, 8, 14, 8, 17, 8, 18, 10, 4, 7, 3, 11, 7, 16, 9, 4, 7,
            3, 12, 7, 13, 10, 4, 7, 3, 11, 7, 15, 9, 4, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
          },
          batch.inputIds().toLongArray());
      long n = IGNORE;
      assertArrayEquals(
          new long[] {
            n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, 3, 11, 7, 16, 9, 4, 7, n, n, n, n, n,
            n, n, 3, 11, 7, 15, 9, 4, 7, n, n, n, n, n, n, n, n, n, n
          },
          batch.layout().labels(manager).toLongArray());
    }
  }

  @Test
  void textOnlyPromptLabelsTheAnswerBlock() {
    EncodedPrompt p = encoder().tokenize(textOnly);
    assertArrayEquals(concat(userText(), answerText()), p.ids());
    assertArrayEquals(concat(repeat(IGNORE, 7), answerText()), p.labels());
    assertArrayEquals(new boolean[14], p.isImage());
    assertEquals(7, p.supervisedCount());
    assertEquals(List.of(), p.imagePaths());
  }

  @Test
  void imageBlockGivesTokensPerImageVisionPositions() {
    EncodedPrompt p = encoder().tokenize(withImage);
    long img = tok.imageTokenId();
    long[] expectedIds =
        concat(
            ids("<|im_start|>", "user", "\n", "<img>"),
            repeat(img, T),
            ids("</img>", " ", "Is", " ", "it", " ", "red", "?", "<|im_end|>", "\n"),
            ids("<|im_start|>", "assistant", "\n", "Yes", ".", "<|im_end|>", "\n"));
    assertArrayEquals(expectedIds, p.ids());
    assertEquals(24, p.length());
    for (int i = 0; i < 24; i++) {
      assertEquals(i >= 4 && i < 7, p.isImage()[i], "isImage " + i);
      assertEquals(i >= 17 ? expectedIds[i] : IGNORE, p.labels()[i], "label " + i);
    }
    assertEquals(List.of("a.png"), p.imagePaths());
  }

  @Test
  void batchOfTwoIsRightPaddedWithImagesInOrder() {
    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = encoder().encode(manager, List.of(withImage, textOnly), root);
      assertEquals(2, batch.batchSize());
      assertEquals(24, batch.length());
      assertEquals(new Shape(2, 24), batch.inputIds().getShape());
      assertEquals(DataType.INT64, batch.inputIds().getDataType());
      long[] all = batch.inputIds().toLongArray();
      long[] row1 = Arrays.copyOfRange(all, 24, 48);
      assertArrayEquals(concat(userText(), answerText(), repeat(tok.padId(), 10)), row1);
      assertArrayEquals(encoder().tokenize(withImage).ids(), Arrays.copyOfRange(all, 0, 24));

      long[] labels = batch.layout().labels(manager).toLongArray();
      assertArrayEquals(
          concat(repeat(IGNORE, 7), answerText(), repeat(IGNORE, 10)),
          Arrays.copyOfRange(labels, 24, 48));
      assertEquals(24, batch.layout().length(0));
      assertEquals(14, batch.layout().length(1));
      assertEquals(T, batch.layout().imageTokenCount(0));
      assertEquals(0, batch.layout().imageTokenCount(1));
      assertTrue(batch.layout().isImage(0, 4));
      assertFalse(batch.layout().isImage(0, 7));
      assertFalse(batch.layout().isValid(1, 14));
      boolean[] mask = batch.imageMask().toBooleanArray();
      assertTrue(mask[5]);
      assertFalse(mask[24 + 5]);

      assertEquals(1, batch.imageCount());
      assertEquals(new Shape(1, 3, 4, 4), batch.pixelValues().getShape());
      assertArrayEquals(
          pipeline.preprocess(root.resolve("a.png")), batch.pixelValues().toFloatArray());
    }
  }

  @Test
  void pixelValuesFollowSequenceOrderAcrossTheBatch() {
    List<ContentBlock> two =
        PromptBuilder.training(
            "<image_path>sub/c.png</image_path> then <image_path>b.png</image_path>", "ok");
    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = encoder().encode(manager, List.of(two, textOnly, withImage), root);
      assertEquals(new Shape(3, 3, 4, 4), batch.pixelValues().getShape());
      float[] px = batch.pixelValues().toFloatArray();
      int per = 3 * 4 * 4;
      assertArrayEquals(
          pipeline.preprocess(root.resolve("sub/c.png")), Arrays.copyOfRange(px, 0, per));
      assertArrayEquals(
          pipeline.preprocess(root.resolve("b.png")), Arrays.copyOfRange(px, per, 2 * per));
      assertArrayEquals(
          pipeline.preprocess(root.resolve("a.png")), Arrays.copyOfRange(px, 2 * per, 3 * per));
      assertEquals(2 * T, batch.layout().imageTokenCount(0));
      assertEquals(T, batch.layout().imageTokenCount(2));
    }
  }

  @Test
  void textOnlyBatchHasNoPixels() {
    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = encoder().encode(manager, List.of(textOnly), root);
      assertNull(batch.pixelValues());
      assertEquals(0, batch.imageCount());
      assertArrayEquals(concat(userText(), answerText()), batch.inputIds().toLongArray());
    }
  }

  @Test
  void backToBackImagesHaveNoTextBetweenThem() {
    List<ContentBlock> blocks =
        PromptBuilder.resolve(
            "<image_path>a.png</image_path><image_path>b.png</image_path>", false);
    EncodedPrompt p = encoder().tokenize(blocks);
    long img = tok.imageTokenId();
    assertArrayEquals(
        concat(ids("<img>"), repeat(img, T), ids("</img>", "<img>"), repeat(img, T), ids("</img>")),
        p.ids());
    assertEquals(0, p.supervisedCount());
  }

  @Test
  void openEndedPromptSupervisesNothingAndEndsWithTheAssistantStart() {
    List<ContentBlock> blocks = PromptBuilder.openEnded("Go?");
    EncodedPrompt p = encoder().tokenize(blocks);
    assertArrayEquals(concat(userText(), ids("<|im_start|>", "assistant", "\n")), p.ids());
    assertEquals(0, p.supervisedCount());
  }

  @Test
  void tooLongFailsByDefault() {
    BatchEncoder enc =
        BatchEncoder.builder()
            .setTokenizer(tok)
            .setImagePipeline(pipeline)
            .setTokensPerImage(T)
            .optMaxLength(20, BatchEncoder.Truncation.FAIL)
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> {
              try (NDManager manager = NDManager.newBaseManager()) {
                enc.encode(manager, List.of(textOnly, withImage), root);
              }
            });
    assertTrue(e.getMessage().contains("prompt 1 has 24 positions"), e.getMessage());
    assertEquals(14, enc.tokenize(textOnly).length());
  }

  @Test
  void dropPromptStartKeepsTheAnswerAndWholeImages() {
    EncodedPrompt full = encoder().tokenize(withImage);
    // 20: cut 4 removes <|im_start|> user \n <img>; the image (positions 4..6) stays whole
    EncodedPrompt p20 = truncating(20).tokenize(withImage);
    assertEquals(20, p20.length());
    assertArrayEquals(Arrays.copyOfRange(full.ids(), 4, 24), p20.ids());
    assertArrayEquals(Arrays.copyOfRange(full.labels(), 4, 24), p20.labels());
    assertTrue(p20.isImage()[0]);
    assertEquals(List.of("a.png"), p20.imagePaths());
    assertEquals(4, p20.droppedTokens());
    assertEquals(0, p20.droppedImages());

    // 18: cut 6 would split the image, so the whole image goes: 17 positions remain
    EncodedPrompt p18 = truncating(18).tokenize(withImage);
    assertEquals(17, p18.length());
    assertArrayEquals(Arrays.copyOfRange(full.ids(), 7, 24), p18.ids());
    assertEquals(id("</img>"), p18.ids()[0]);
    assertEquals(List.of(), p18.imagePaths());
    assertEquals(1, p18.droppedImages());
    assertEquals(7, p18.supervisedCount());

    // 6: the answer alone has 7 positions
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> truncating(6).tokenize(withImage));
    assertTrue(e.getMessage().contains("supervised answer"), e.getMessage());

    // open-ended prompts keep their end (the generation prompt)
    EncodedPrompt open = truncating(5).tokenize(PromptBuilder.openEnded("Go?"));
    assertArrayEquals(ids("<|im_end|>", "\n", "<|im_start|>", "assistant", "\n"), open.ids());

    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch = truncating(18).encode(manager, List.of(withImage, textOnly), root);
      assertNull(batch.pixelValues());
      assertEquals(17, batch.length());
      assertEquals(0, batch.layout().imageTokenCount(0));
    }
  }

  private BatchEncoder truncating(int max) {
    return BatchEncoder.builder()
        .setTokenizer(tok)
        .setImagePipeline(pipeline)
        .setTokensPerImage(T)
        .optMaxLength(max, BatchEncoder.Truncation.DROP_PROMPT_START)
        .build();
  }

  @Test
  void builderTakesSizesFromAModelCard() {
    ModelCard card = new ModelCard("s", 2, 2, 8, 32, 5, 6, tok.identity());
    BatchEncoder enc = BatchEncoder.builder().setTokenizer(tok).setModel(card).build();
    assertEquals(5, enc.tokensPerImage());
    assertEquals(6, enc.imagePipeline().imageSize());
    assertEquals(
        9,
        BatchEncoder.builder()
            .setTokenizer(tok)
            .setImageSize(9)
            .setTokensPerImage(1)
            .build()
            .imagePipeline()
            .imageSize());
    assertThrows(
        IllegalStateException.class, () -> BatchEncoder.builder().setTokenizer(tok).build());
    assertThrows(IllegalArgumentException.class, () -> BatchEncoder.builder().setTokensPerImage(0));
  }

  @Test
  void imageErrorsNameTheFile() {
    List<ContentBlock> missing = PromptBuilder.training("<image_path>nope.png</image_path>", "x");
    List<ContentBlock> escaping = PromptBuilder.training("<image_path>../a.png</image_path>", "x");
    try (NDManager manager = NDManager.newBaseManager()) {
      ImageLoadException e =
          assertThrows(
              ImageLoadException.class, () -> encoder().encode(manager, List.of(missing), root));
      assertEquals(root.toAbsolutePath().normalize().resolve("nope.png"), e.file());
      IllegalArgumentException esc =
          assertThrows(
              IllegalArgumentException.class,
              () -> encoder().encode(manager, List.of(textOnly, escaping), root));
      assertTrue(
          esc.getMessage().startsWith("prompt 1: image path \"../a.png\""), esc.getMessage());
    }
  }

  @Test
  void samplesFromADatasetResolveImagesAndNameRecordAndField() throws IOException {
    Path file =
        Files.writeString(
            root.resolve("data.json"),
            "[{\"messages\":[{\"role\":\"user\",\"content\":\"<image> Is it red?\"},"
                + "{\"role\":\"assistant\",\"content\":\"Yes.\"}],"
                + "\"images\":[\"a.png\"],\"question_type\":\"perception\"},"
                + "{\"question\":\"<image><image>Go?\",\"answer\":\"No.\","
                + "\"images\":[\"b.png\",\"gone.png\"],\"question_type\":\"planning\"}]");
    DrivingDataset data =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .build()
            .read(file);
    try (NDManager manager = NDManager.newBaseManager()) {
      VlmBatch batch =
          encoder().encodeSamples(manager, List.of(data.get(0)), BatchEncoder.PromptMode.TRAINING);
      assertArrayEquals(encoder().tokenize(withImage).ids(), batch.inputIds().toLongArray());
      assertArrayEquals(
          pipeline.preprocess(root.resolve("a.png")), batch.pixelValues().toFloatArray());

      VlmBatch open =
          encoder()
              .encodeSamples(manager, List.of(data.get(0)), BatchEncoder.PromptMode.OPEN_ENDED);
      assertEquals(0, countSupervised(open.layout().labels(manager).toLongArray()));

      DatasetException e =
          assertThrows(
              DatasetException.class,
              () ->
                  encoder()
                      .encodeSamples(manager, data.samples(), BatchEncoder.PromptMode.TRAINING));
      assertEquals(file, e.file());
      assertEquals(1, e.recordIndex().getAsInt());
      assertEquals("images[1]", e.field().orElseThrow());
      assertTrue(e.getMessage().contains("gone.png"), e.getMessage());
      assertTrue(e.getMessage().contains("image file not found"), e.getMessage());
    }
  }

  private static int countSupervised(long[] labels) {
    int n = 0;
    for (long l : labels) {
      n += l != IGNORE ? 1 : 0;
    }
    return n;
  }

  @Test
  void worksWithTheHuggingFaceAdapter() throws URISyntaxException {
    Path json =
        Path.of(BatchEncoderTest.class.getResource("/tokenizers/wordlevel-tokenizer.json").toURI());
    try (HuggingFaceTokenizerAdapter hf =
            HuggingFaceTokenizerAdapter.builder().setTokenizerPath(json).build();
        NDManager manager = NDManager.newBaseManager()) {
      BatchEncoder enc =
          BatchEncoder.builder()
              .setTokenizer(hf)
              .setImagePipeline(pipeline)
              .setTokensPerImage(2)
              .build();
      List<ContentBlock> blocks =
          PromptBuilder.training("<image_path>a.png</image_path>the car?", "It is red.");
      VlmBatch batch = enc.encode(manager, List.of(blocks, PromptBuilder.training("", "")), root);
      // <|im_start|>=16 user=1 \n=3 <img>=18 IMG=20 x2 </img>=19 the car ? <|im_end|> \n, then
      // <|im_start|> assistant \n It " " is " " red . <|im_end|> \n
      long[] first =
          new long[] {
            16, 1, 3, 18, 20, 20, 19, 5, 4, 6, 9, 17, 3, 16, 2, 3, 12, 4, 7, 4, 8, 13, 17, 3
          };
      long[] second = new long[] {16, 1, 3, 17, 3, 16, 2, 3, 17, 3};
      long[] expected = new long[48];
      System.arraycopy(first, 0, expected, 0, 24);
      Arrays.fill(expected, 24, 48, 15);
      System.arraycopy(second, 0, expected, 24, second.length);
      assertArrayEquals(expected, batch.inputIds().toLongArray());
      List<Long> labels = new ArrayList<>();
      for (long l : batch.layout().labels(manager).toLongArray()) {
        labels.add(l);
      }
      assertEquals(Long.valueOf(16), labels.get(13));
      assertEquals(Long.valueOf(IGNORE), labels.get(12));
      assertEquals(Long.valueOf(16), labels.get(24 + 5));
      assertEquals(Long.valueOf(IGNORE), labels.get(24 + 10));
    }
  }
}
