package dev.drivekd.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.testing.ReferenceFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** Parity with every case of {@code golden/question_types.json}, whatever their number. */
class QuestionTypesGoldenTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> everyCase() {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : ReferenceFiles.goldenCases("question_types.json")) {
      String function = c.path("function").asText();
      String name = c.path("name").asText() + " (" + function + ")";
      switch (function) {
        case "normalize_question_type":
          tests.add(DynamicTest.dynamicTest(name, () -> checkNormalize(c)));
          break;
        case "canonicalize_dataset_items":
          tests.add(DynamicTest.dynamicTest(name + " resolver", () -> checkResolver(c)));
          tests.add(DynamicTest.dynamicTest(name + " reader", () -> checkReader(c)));
          break;
        default:
          tests.add(DynamicTest.dynamicTest(name, () -> fail("unknown function " + function)));
      }
    }
    return tests.stream();
  }

  private static void checkNormalize(JsonNode c) {
    JsonNode raw = c.path("inputs").path("raw");
    JsonNode expected = c.path("expected").path("capability");
    assertEquals(expected.size(), raw.size(), "golden inputs and outputs differ in length");
    for (int i = 0; i < raw.size(); i++) {
      String actual = Capability.fromQuestionType(raw.get(i)).map(Capability::key).orElse(null);
      String want = expected.get(i).isNull() ? null : expected.get(i).asText();
      assertEquals(want, actual, "raw " + raw.get(i));
    }
  }

  private static void checkResolver(JsonNode c) {
    JsonNode items = c.path("inputs").path("items");
    UnknownTypePolicy policy =
        UnknownTypePolicy.parse(c.path("inputs").path("on_unknown_type").asText());
    QuestionTypeResolver resolver = new QuestionTypeResolver(policy);
    Path file = Path.of("golden-items.json");
    JsonNode error = c.path("expected").path("error");
    if (!error.isMissingNode()) {
      int failing = error.path("item_index").asInt();
      for (int i = 0; i < failing; i++) {
        resolver.resolve(items.get(i), file, i);
      }
      DatasetException e =
          assertThrows(
              DatasetException.class, () -> resolver.resolve(items.get(failing), file, failing));
      assertEquals(failing, e.recordIndex().getAsInt());
      assertTrue(e.field().isPresent());
      return;
    }
    List<TypeAssignment> assignments = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      assignments.add(resolver.resolve(items.get(i), file, i));
    }
    JsonNode expected = c.path("expected");
    for (int i = 0; i < items.size(); i++) {
      Capability capability = assignments.get(i).capability();
      assertEquals(expected.path("question_type").get(i).asText(), capability.key(), "item " + i);
      assertEquals(expected.path("model_index").get(i).asInt(), capability.index(), "item " + i);
    }
    long fallbacks = assignments.stream().filter(TypeAssignment::fromFallback).count();
    assertEquals(expected.path("unknown_count").asLong(), fallbacks);
  }

  /** The same items through the full reader, each given a question and an answer. */
  private void checkReader(JsonNode c) throws IOException {
    ArrayNode items = JSON.createArrayNode();
    for (JsonNode item : c.path("inputs").path("items")) {
      ObjectNode copy = ((ObjectNode) item).deepCopy();
      copy.put("question", "q").put("answer", "a");
      items.add(copy);
    }
    Path file = Files.writeString(tmp.resolve("items.json"), JSON.writeValueAsString(items));
    DrivingDatasetReader reader =
        DrivingDatasetReader.builder()
            .optUnknownTypePolicy(
                UnknownTypePolicy.parse(c.path("inputs").path("on_unknown_type").asText()))
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .build();
    JsonNode expected = c.path("expected");
    if (expected.has("error")) {
      DatasetException e = assertThrows(DatasetException.class, () -> reader.read(file));
      int index = expected.path("error").path("item_index").asInt();
      assertEquals(index, e.recordIndex().getAsInt());
      String field = e.field().orElseThrow();
      assertTrue(QuestionTypeResolver.TYPE_KEYS.contains(field), field);
      assertTrue(e.getMessage().contains("items.json: record " + index), e.getMessage());
      return;
    }
    DrivingDataset dataset = reader.read(file);
    for (int i = 0; i < dataset.size(); i++) {
      assertEquals(
          expected.path("question_type").get(i).asText(), dataset.get(i).capability().key());
      assertEquals(
          expected.path("model_index").get(i).asInt(), dataset.get(i).capability().index());
    }
    for (Capability capability : Capability.values()) {
      assertEquals(
          expected.path("counts").path(capability.key()).asInt(),
          dataset.count(capability),
          capability.key());
    }
    assertEquals(expected.path("unknown_count").asInt(), dataset.unknownCount());
  }
}
