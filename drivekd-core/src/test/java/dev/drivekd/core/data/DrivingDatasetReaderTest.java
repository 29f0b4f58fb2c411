package dev.drivekd.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reader behaviour on hand-written files: good input, every kind of bad input, warnings. */
class DrivingDatasetReaderTest {

  @TempDir Path root;

  private static final DrivingDatasetReader TEXT_ONLY =
      DrivingDatasetReader.builder().optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY).build();

  private Path write(String json) throws IOException {
    return Files.writeString(root.resolve("data.json"), json);
  }

  private static String item(String question, String images, String type) {
    return "{\"question\": \""
        + question
        + "\", \"answer\": \"Stop.\", \"images\": "
        + images
        + ", \"question_type\": \""
        + type
        + "\"}";
  }

  private Path png(String relative) throws IOException {
    Path file = root.resolve(relative);
    Files.createDirectories(file.getParent());
    BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
    image.setRGB(1, 1, 0xff8800);
    assertTrue(ImageIO.write(image, "png", file.toFile()));
    return file;
  }

  private static void assertLocated(DatasetException e, int record, String field) {
    assertTrue(e.getMessage().startsWith(e.file().toString()), e.getMessage());
    assertTrue(e.getMessage().contains("data.json"), e.getMessage());
    assertEquals(OptionalInt.of(record), e.recordIndex(), e.getMessage());
    assertEquals(field, e.field().orElse(null), e.getMessage());
    assertTrue(
        e.getMessage().contains("record " + record + ", field \"" + field + "\": "),
        e.getMessage());
  }

  @Test
  void realImagesPassRequireReadable() throws IOException {
    Path front = png("cams/front.png");
    png("cams/rear.png");
    Path file =
        write(
            "["
                + item(
                    "Front <image> rear <image>?", "[\"cams/front.png\", \"cams/rear.png\"]", "p")
                + ", "
                + item("<image>Go?", "[\"" + front + "\"]", "plan")
                + "]");
    DrivingDataset dataset = DrivingDatasetReader.builder().build().read(file);
    assertEquals(2, dataset.size());
    assertEquals(List.of(front, root.resolve("cams/rear.png")), dataset.get(0).imagePaths());
    // An absolute path inside the data root is fine.
    assertEquals(List.of(front), dataset.get(1).imagePaths());
    assertEquals(1, dataset.count(Capability.PERCEPTION));
    assertEquals(1, dataset.count(Capability.PLANNING));
    assertEquals(0, dataset.count(Capability.REASONING));
    assertTrue(dataset.warnings().isEmpty());
  }

  @Test
  void dataRootCanDifferFromTheFileFolder() throws IOException {
    png("images/a.png");
    Path data = Files.createDirectories(root.resolve("json"));
    Path file =
        Files.writeString(
            data.resolve("data.json"), "[" + item("<image>?", "[\"a.png\"]", "r") + "]");
    DrivingDataset dataset =
        DrivingDatasetReader.builder().optDataRoot(root.resolve("images")).build().read(file);
    assertEquals(List.of(root.resolve("images/a.png")), dataset.get(0).imagePaths());
  }

  @Test
  void aByteOrderMarkBeforeTheJsonIsAccepted() throws IOException {
    png("a.png");
    String json = "[" + item("<image>Go?", "[\"a.png\"]", "plan") + "]";
    Path file = root.resolve("bom.json");
    Files.write(
        file,
        concat(
            new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
            json.getBytes(StandardCharsets.UTF_8)));
    DrivingDataset dataset = DrivingDatasetReader.builder().build().read(file);
    assertEquals(1, dataset.size());
    assertEquals(List.of(root.resolve("a.png")), dataset.get(0).imagePaths());
    // only at the start: the same mark anywhere else is still malformed JSON
    Path inside = root.resolve("inside.json");
    Files.writeString(inside, "[\uFEFF" + item("<image>Go?", "[\"a.png\"]", "plan") + "]");
    DatasetException e =
        assertThrows(
            DatasetException.class, () -> DrivingDatasetReader.builder().build().read(inside));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void missingImage() throws IOException {
    png("a.png");
    Path file = write("[" + item("<image><image>?", "[\"a.png\", \"b.png\"]", "p") + "]");
    DatasetException e =
        assertThrows(
            DatasetException.class, () -> DrivingDatasetReader.builder().build().read(file));
    assertLocated(e, 0, "images[1]");
    assertTrue(e.getMessage().contains("image file not found: " + root.resolve("b.png")));
  }

  @Test
  void directoryIsNotAnImage() throws IOException {
    Files.createDirectories(root.resolve("dir.png"));
    Path file = write("[" + item("<image>?", "[\"dir.png\"]", "p") + "]");
    DatasetException e =
        assertThrows(
            DatasetException.class, () -> DrivingDatasetReader.builder().build().read(file));
    assertLocated(e, 0, "images[0]");
    assertTrue(e.problem().contains("not a regular file"), e.problem());
  }

  @Test
  void relativePathEscapingTheRoot() throws IOException {
    Path file =
        write(
            "["
                + item("<image>?", "[]", "p")
                + ", "
                + item("<image>?", "[\"../../etc/passwd\"]", "p")
                + "]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 1, "images[0]");
    assertTrue(e.problem().contains("escapes the data root"), e.problem());
  }

  @Test
  void absolutePathOutsideTheRoot() throws IOException {
    Path file = write("[" + item("<image>?", "[\"/etc/passwd\"]", "p") + "]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "images[0]");
    assertTrue(e.problem().contains("escapes the data root"), e.problem());
  }

  @Test
  void symlinkOutOfTheRoot() throws IOException {
    Path outside = Files.createTempFile("drivekd-outside", ".png");
    try {
      Files.createSymbolicLink(root.resolve("link.png"), outside);
      Path file = write("[" + item("<image>?", "[\"link.png\"]", "p") + "]");
      DatasetException e =
          assertThrows(
              DatasetException.class, () -> DrivingDatasetReader.builder().build().read(file));
      assertLocated(e, 0, "images[0]");
      assertTrue(e.problem().contains("links outside the data root"), e.problem());
    } finally {
      Files.deleteIfExists(outside);
    }
  }

  @Test
  void literalImagePathTagIsValidatedToo() throws IOException {
    Path file = write("[" + item("See <image_path>../secret.png</image_path>", "[]", "p") + "]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "question");
  }

  @Test
  void pathsThatNameNoFileAreRejectedEvenTextOnly() throws IOException {
    Path dotDot = write("[" + item("<image>?", "[\"sub/..\"]", "p") + "]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(dotDot));
    assertLocated(e, 0, "images[0]");
    assertTrue(e.problem().contains("names the data root itself"), e.problem());
    Path empty = write("[" + item("<image_path></image_path>?", "[]", "p") + "]");
    e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(empty));
    assertLocated(e, 0, "question");
    assertTrue(e.problem().contains("non-empty image path"), e.problem());
  }

  @Test
  void malformedJsonReportsLineAndColumn() throws IOException {
    Path file = write("[\n  {\"question\": \"q\",\n   \"answer\": }\n]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertTrue(e.getMessage().contains("data.json: line 3, column"), e.getMessage());
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    assertFalse(e.recordIndex().isPresent());
  }

  @Test
  void trailingDataIsMalformed() throws IOException {
    Path file = write("[" + item("q", "[]", "p") + "] []");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
  }

  @Test
  void rootOfTheWrongShape() throws IOException {
    for (String json : List.of("{\"rows\": []}", "\"text\"", "42", "{\"data\": {}}")) {
      Path file = write(json);
      DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file), json);
      assertTrue(e.getMessage().contains("data.json: root must be a list"), e.getMessage());
    }
  }

  @Test
  void noRecords() throws IOException {
    Path file = write("[1, \"x\"]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertTrue(e.getMessage().contains("no records"), e.getMessage());
  }

  @Test
  void firstListValuedRootKeyWins() throws IOException {
    Path file =
        write(
            "{\"data\": \"not a list\", \"items\": ["
                + item("q1", "[]", "p")
                + "], \"samples\": ["
                + item("q2", "[]", "r")
                + ", "
                + item("q3", "[]", "r")
                + "]}");
    DrivingDataset dataset = TEXT_ONLY.read(file);
    assertEquals(1, dataset.size());
    assertEquals("q1", dataset.get(0).question());
  }

  @Test
  void nonObjectEntriesAreDroppedWithAWarningAndKeepTheirPositions() throws IOException {
    Path file = write("[7, " + item("q", "[]", "p") + ", null, {\"answer\": \"a\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    // Record indices are positions in the file's list, non-objects included.
    assertLocated(e, 3, "question_type");
    Path good = write("[7, " + item("q", "[]", "p") + "]");
    DrivingDataset dataset = TEXT_ONLY.read(good);
    assertEquals(1, dataset.size());
    assertEquals(1, dataset.get(0).recordIndex());
    assertEquals(1, dataset.warnings().size());
    assertEquals(0, dataset.warnings().get(0).recordIndex());
    assertTrue(dataset.warnings().get(0).message().contains("not an object"));
  }

  @Test
  void unknownTypeUnderTheErrorPolicyNamesTheKeyRead() throws IOException {
    Path file =
        write(
            "[{\"question\": \"q\", \"answer\": \"a\", \"type\": \"p\"},"
                + " {\"question\": \"q\", \"answer\": \"a\", \"type\": \"weather\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 1, "type");
    assertTrue(e.problem().contains("\"weather\""), e.problem());
  }

  @Test
  void typesAreCheckedBeforeQuestions() throws IOException {
    // As in the reference, every type is resolved before any record is built.
    Path file =
        write("[{\"answer\": \"a\", \"type\": \"p\"}, {\"question\": \"q\", \"answer\": \"a\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 1, "question_type");
  }

  @Test
  void fallbackPolicyCountsUnknownTypes() throws IOException {
    Path file =
        write("[" + item("q", "[]", "weather") + ", {\"question\": \"q\", \"answer\": \"a\"}]");
    DrivingDataset dataset =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .optUnknownTypePolicy(UnknownTypePolicy.fallback(Capability.REASONING))
            .build()
            .read(file);
    assertEquals(2, dataset.count(Capability.REASONING));
    assertEquals(2, dataset.unknownCount());
    assertEquals("weather", dataset.get(0).rawQuestionType());
    assertEquals(null, dataset.get(1).rawQuestionType());
  }

  @Test
  void missingQuestion() throws IOException {
    Path file = write("[{\"answer\": \"a\", \"question_type\": \"p\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "messages");
    assertTrue(e.problem().contains("expected a list of {role, content} messages"), e.problem());
  }

  @Test
  void questionWithoutAnAnswer() throws IOException {
    Path file = write("[{\"question\": \"q\", \"answer\": 3, \"question_type\": \"p\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "messages");
    assertTrue(e.problem().contains("\"answer\" is number"), e.problem());
  }

  @Test
  void messagesWithoutAnAssistantTurn() throws IOException {
    Path file =
        write(
            "[{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, \"junk\"],"
                + " \"question_type\": \"p\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "messages");
    assertTrue(e.problem().contains("assistant message"), e.problem());
  }

  @Test
  void messagesWithoutAUserTurn() throws IOException {
    Path file =
        write(
            "[{\"messages\": [{\"role\": \"user\", \"content\": \"\"},"
                + " {\"role\": \"assistant\", \"content\": \"a\"}], \"question_type\": \"p\"}]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "messages");
    assertTrue(e.problem().contains("user message"), e.problem());
  }

  @Test
  void emptyUserMessageIsSkippedLikeTheReference() throws IOException {
    Path file =
        write(
            "[{\"messages\": [{\"role\": \"user\", \"content\": \"\"},"
                + " {\"role\": \"assistant\", \"content\": 2.50},"
                + " {\"role\": \"User \", \"content\": \"second\"}], \"question_type\": \"p\"}]");
    DrivingSample sample = TEXT_ONLY.read(file).get(0);
    assertEquals("second", sample.question());
    assertEquals("2.5", sample.answer());
  }

  @Test
  void surplusPlaceholdersWarn() throws IOException {
    Path file = write("[" + item("<image> vs <image> vs <image>", "[\"a.png\"]", "r") + "]");
    DrivingDataset dataset = TEXT_ONLY.read(file);
    assertEquals(1, dataset.warnings().size());
    DatasetWarning warning = dataset.warnings().get(0);
    assertEquals(0, warning.recordIndex());
    assertEquals("question", warning.field());
    assertTrue(warning.toString().contains("data.json: record 0, field \"question\""));
    assertTrue(warning.message().contains("2 <image> placeholder(s)"), warning.message());
    assertEquals(1, dataset.get(0).images().size());
  }

  @Test
  void surplusImagesWarnAndAreDropped() throws IOException {
    Path file = write("[" + item("<image> what?", "[\"a.png\", \"b.png\", \"c.png\"]", "r") + "]");
    DrivingDataset dataset = TEXT_ONLY.read(file);
    assertEquals(
        List.of("images[1]", "images[2]"),
        dataset.warnings().stream().map(DatasetWarning::field).toList());
    assertEquals(List.of(root.resolve("a.png")), dataset.get(0).imagePaths());
  }

  @Test
  void malformedImageEntriesAreErrorsUnlessLenient() throws IOException {
    Path file = write("[" + item("<image> what?", "\"a.png\"", "r") + "]");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertLocated(e, 0, "images");
    assertTrue(e.getMessage().contains("expected a list of image paths, found string"));
    DrivingDatasetReader lenient =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .optLenientImageEntries(true)
            .build();
    DrivingDataset dataset = lenient.read(file);
    assertEquals(2, dataset.warnings().size());
    assertEquals("images", dataset.warnings().get(0).field());
    assertTrue(dataset.get(0).images().isEmpty());

    Path entries = write("[" + item("<image><image> what?", "[\"a.png\", 3]", "r") + "]");
    e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(entries));
    assertLocated(e, 0, "images[1]");
    assertEquals(1, lenient.read(entries).get(0).images().size());
  }

  @Test
  void unreadableFile() {
    Path file = root.resolve("absent.json");
    DatasetException e = assertThrows(DatasetException.class, () -> TEXT_ONLY.read(file));
    assertTrue(e.getMessage().startsWith(file + ": cannot read the file"), e.getMessage());
  }
}
