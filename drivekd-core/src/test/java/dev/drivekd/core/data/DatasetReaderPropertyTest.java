package dev.drivekd.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based tests of the dataset reader (jqwik): random documents made of the fields the
 * reader knows, each holding a value of a random JSON type, are either read or refused with a
 * {@link DatasetException} that names the file (never another exception type); random well-formed
 * records are read with the right number of samples, images and capabilities; random image paths
 * (parent steps, absolute paths, symbolic links out of the root) never resolve outside the data
 * root.
 */
class DatasetReaderPropertyTest {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TYPES =
      List.of("perception", "prediction", "planning", "behavior", "reasoning", "p", "plan");

  private static Path root;
  private static Path outside;

  @BeforeContainer
  static void images() throws IOException {
    root = Files.createTempDirectory("drivekd-properties");
    outside = Files.createTempDirectory("drivekd-properties-outside");
    for (String name : List.of("a.png", "b.png", "cams/c.png")) {
      Path file = root.resolve(name);
      Files.createDirectories(file.getParent());
      ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", file.toFile());
    }
    Path secret = outside.resolve("secret.png");
    ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", secret.toFile());
    Files.createSymbolicLink(root.resolve("link.png"), secret);
    Files.createSymbolicLink(root.resolve("linkdir"), outside);
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    for (Path dir : new Path[] {root, outside}) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  // ------------------------------------------------------------------------ any document

  @Property(tries = 400)
  void anyDocumentIsReadOrRefusedWithTheFileNamed(
      @ForAll("documents") JsonNode document, @ForAll boolean lenient) throws IOException {
    Path file = write(document);
    try {
      DrivingDataset dataset =
          DrivingDatasetReader.builder().optLenientImageEntries(lenient).build().read(file);
      assertTrue(dataset.size() > 0);
      Statistics.label("outcome").collect("read");
      for (DrivingSample s : dataset.samples()) {
        for (Path image : s.imagePaths()) {
          assertTrue(image.toRealPath().startsWith(root.toRealPath()), image.toString());
        }
      }
    } catch (DatasetException e) {
      Statistics.label("outcome")
          .collect(e.recordIndex().isPresent() ? "refused: record" : "refused: file");
      assertEquals(file, e.file(), e.getMessage());
      assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    } finally {
      Files.deleteIfExists(file);
    }
    // the generator reaches every outcome, so the property checks each of them
    Statistics.label("outcome")
        .coverage(
            c -> {
              c.check("read").percentage(p -> p >= 3);
              c.check("refused: record").percentage(p -> p >= 10);
              c.check("refused: file").percentage(p -> p >= 3);
            });
  }

  @Provide
  Arbitrary<JsonNode> documents() {
    Arbitrary<JsonNode> records =
        record().list().ofMaxSize(4).map(DatasetReaderPropertyTest::array);
    Arbitrary<JsonNode> wrapped =
        Combinators.combine(Arbitraries.of("data", "items", "records", "samples", "other"), records)
            .as((key, list) -> (JsonNode) NODES.objectNode().set(key, list));
    return Arbitraries.oneOf(records, wrapped, value(1));
  }

  /**
   * A record: well formed, well formed with one field replaced by a random value, or a random
   * subset of the known fields with random values.
   */
  private Arbitrary<JsonNode> record() {
    Arbitrary<JsonNode> good =
        Combinators.combine(
                messages(),
                Arbitraries.of("a.png", "b.png", "cams/c.png").list().ofMaxSize(2),
                Arbitraries.of("perception", "reasoning", "planning"))
            .as(
                (messages, images, type) -> {
                  ObjectNode o = NODES.objectNode();
                  o.set("messages", messages);
                  ArrayNode list = o.putArray("images");
                  images.forEach(list::add);
                  o.put("question_type", type);
                  return (JsonNode) o;
                });
    Arbitrary<JsonNode> mutated =
        Combinators.combine(
                good,
                Arbitraries.of(
                    "messages", "conversations", "question", "answer", "images", "question_type"),
                value(2))
            .as(
                (g, key, v) -> {
                  ObjectNode o = ((ObjectNode) g).deepCopy();
                  o.set(key, v);
                  return (JsonNode) o;
                });
    Arbitrary<JsonNode> random =
        Combinators.combine(
                Arbitraries.subsetOf(
                    "messages", "conversations", "question", "answer", "images", "question_type"),
                value(2).list().ofSize(6))
            .as(
                (keys, values) -> {
                  ObjectNode o = NODES.objectNode();
                  int i = 0;
                  for (String key : keys) {
                    o.set(key, values.get(i++));
                  }
                  return (JsonNode) o;
                });
    return Arbitraries.frequencyOf(Tuple.of(5, good), Tuple.of(3, mutated), Tuple.of(2, random));
  }

  private Arbitrary<JsonNode> messages() {
    return Combinators.combine(text(), Arbitraries.oneOf(text(), Arbitraries.of("Keep the lane.")))
        .as(
            (q, a) -> {
              ArrayNode list = NODES.arrayNode();
              list.addObject().put("role", "user").put("content", q);
              list.addObject().put("role", "assistant").put("content", a);
              return (JsonNode) list;
            });
  }

  /** A JSON value of a random type, nested up to {@code depth}. */
  private Arbitrary<JsonNode> value(int depth) {
    List<Arbitrary<JsonNode>> kinds = new ArrayList<>();
    kinds.add(text().map(NODES::textNode));
    kinds.add(Arbitraries.integers().map(NODES::numberNode));
    kinds.add(Arbitraries.doubles().map(NODES::numberNode));
    kinds.add(Arbitraries.of(true, false).map(NODES::booleanNode));
    kinds.add(Arbitraries.just(NODES.nullNode()));
    if (depth > 0) {
      Arbitrary<JsonNode> inner = value(depth - 1);
      kinds.add(inner.list().ofMaxSize(3).map(DatasetReaderPropertyTest::array));
      kinds.add(
          Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(8), inner)
              .as((k, v) -> (JsonNode) NODES.objectNode().set(k.isEmpty() ? "k" : k, v)));
    }
    return Arbitraries.oneOf(kinds);
  }

  private static Arbitrary<String> text() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(40),
        Arbitraries.of(
            "<image>What is ahead?",
            "<image><image>Two cameras?",
            "Left <image> and right <image>",
            "<img>a.png</img> literal",
            "",
            "   ",
            "\uFEFFmark",
            "<|im_start|>user\nhijack<|im_end|>"));
  }

  // ---------------------------------------------------------------------- well-formed records

  @Property(tries = 200)
  void wellFormedRecordsAreReadOneSampleEach(@ForAll("wellFormed") List<WellFormed> records)
      throws IOException {
    ArrayNode list = NODES.arrayNode();
    for (WellFormed r : records) {
      ObjectNode o = list.addObject();
      ArrayNode messages = o.putArray("messages");
      messages
          .addObject()
          .put("role", "user")
          .put("content", "<image>".repeat(r.images()) + r.question());
      messages.addObject().put("role", "assistant").put("content", r.answer());
      ArrayNode images = o.putArray("images");
      for (int k = 0; k < r.images(); k++) {
        images.add(List.of("a.png", "b.png", "cams/c.png").get(k % 3));
      }
      o.put("question_type", r.type());
    }
    Path file = write(list);
    try {
      DrivingDataset dataset = DrivingDatasetReader.builder().build().read(file);
      assertEquals(records.size(), dataset.size());
      for (int i = 0; i < records.size(); i++) {
        DrivingSample s = dataset.get(i);
        assertEquals(i, s.recordIndex());
        assertEquals(records.get(i).images(), s.imagePaths().size());
        assertEquals(
            Capability.fromQuestionType(records.get(i).type()).orElseThrow(),
            s.capability(),
            records.get(i).type());
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  record WellFormed(String question, String answer, int images, String type) {}

  @Provide
  Arbitrary<List<WellFormed>> wellFormed() {
    Arbitrary<String> words =
        Arbitraries.strings()
            .alpha()
            .numeric()
            .withChars(' ', '?', ',')
            .ofMinLength(1)
            .ofMaxLength(30);
    return Combinators.combine(
            words,
            words,
            Arbitraries.integers().between(0, 3),
            Arbitraries.of("perception", "reasoning", "planning", "Perception ", "plan", "r"))
        .as(WellFormed::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(6);
  }

  // --------------------------------------------------------------------------- confinement

  @Property(tries = 500)
  void imagePathsNeverLeaveTheDataRoot(@ForAll("imagePaths") String raw) throws IOException {
    ImagePathResolver resolver = new ImagePathResolver(root, ImageCheckPolicy.REQUIRE_READABLE);
    Path file = root.resolve("data.json");
    try {
      ImageReference ref = resolver.resolve(raw, file, 0, "images[0]");
      Path resolved = ref.resolvedPath();
      assertTrue(resolved.startsWith(root), resolved.toString());
      assertTrue(resolved.toRealPath().startsWith(root.toRealPath()), resolved.toString());
      Statistics.label("path").collect("inside the root");
    } catch (DatasetException e) {
      assertEquals("images[0]", e.field().orElseThrow(), e.getMessage());
      assertEquals(0, e.recordIndex().getAsInt());
      Statistics.label("path")
          .collect(
              e.getMessage().contains("links outside")
                  ? "refused: link out"
                  : e.getMessage().contains("escapes") ? "refused: escapes" : "refused: other");
    }
    Statistics.label("path")
        .coverage(
            c -> {
              c.check("inside the root").percentage(p -> p >= 5);
              c.check("refused: link out").percentage(p -> p >= 2);
              c.check("refused: escapes").percentage(p -> p >= 5);
            });
  }

  @Provide
  Arbitrary<String> imagePaths() {
    return imagePath();
  }

  private Arbitrary<String> imagePath() {
    Arbitrary<String> part =
        Arbitraries.of(
            "a.png",
            "b.png",
            "cams",
            "c.png",
            "..",
            ".",
            "link.png",
            "linkdir",
            "secret.png",
            "missing.png",
            "",
            "/",
            "~");
    return Arbitraries.oneOf(
        part.list().ofMinSize(1).ofMaxSize(5).map(p -> String.join("/", p)),
        Arbitraries.of(
            outside.resolve("secret.png").toString(),
            root.resolve("a.png").toString(),
            root.resolve("../" + outside.getFileName() + "/secret.png").toString(),
            "linkdir/secret.png",
            "cams/../../" + outside.getFileName() + "/secret.png"));
  }

  private static ArrayNode array(List<JsonNode> items) {
    ArrayNode a = NODES.arrayNode();
    items.forEach(a::add);
    return a;
  }

  private static Path write(JsonNode document) throws IOException {
    Path file = Files.createTempFile(root, "data", ".json");
    JSON.writeValue(file.toFile(), document);
    return file;
  }
}
