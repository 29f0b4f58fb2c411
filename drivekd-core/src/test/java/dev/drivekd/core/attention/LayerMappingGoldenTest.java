package dev.drivekd.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.testing.ReferenceFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every case of {@code layer_mapping.json} against the reference, exactly. */
class LayerMappingGoldenTest {

  @TestFactory
  Stream<DynamicTest> everyGoldenCase() {
    JsonNode cases = ReferenceFiles.goldenCases("layer_mapping.json");
    return StreamSupport.stream(cases.spliterator(), false)
        .map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
  }

  private static void check(JsonNode c) {
    String function = c.get("function").asText();
    switch (function) {
      case "mapping":
        checkMapping(c.get("inputs"), c.get("expected"));
        break;
      case "resolve_index":
        checkResolve(c.get("inputs"), c.get("expected"));
        break;
      default:
        fail("unknown golden function " + function);
    }
  }

  private static void checkMapping(JsonNode in, JsonNode expected) {
    LayerRange range = LayerRange.of(in.get("start").asInt(), in.get("end").asInt());
    int ns = in.get("n_student_layers").asInt();
    int nt = in.get("n_teacher_layers").asInt();
    if (expected.has("error")) {
      JsonNode error = expected.get("error");
      LayerIndexException e =
          assertThrows(LayerIndexException.class, () -> LayerGroupMapping.of(range, ns, nt));
      assertEquals(error.get("kind").asText(), e.kind().referenceName());
      assertEquals(error.get("side").asText(), e.side().orElseThrow().referenceName());
      assertTrue(
          e.getMessage().contains(error.get("message").asText()),
          e.getMessage() + " should contain the reference message");
      return;
    }
    LayerGroupMapping mapping = LayerGroupMapping.of(range, ns, nt);
    assertEquals(ints(expected.get("student_indices")), mapping.studentIndices());
    assertEquals(ints(expected.get("teacher_indices")), mapping.teacherIndices());
    JsonNode groups = expected.get("mapping");
    assertEquals(groups.size(), mapping.groups().size());
    for (int i = 0; i < groups.size(); i++) {
      LayerGroup group = mapping.groups().get(i);
      assertEquals(groups.get(i).get("student").asInt(), group.student());
      assertEquals(ints(groups.get(i).get("teachers")), group.teachers());
    }
    JsonNode size = expected.get("group_size");
    if (size == null || size.isNull()) {
      assertTrue(mapping.groupSize().isEmpty());
    } else {
      assertEquals(size.asInt(), mapping.groupSize().getAsInt());
    }
  }

  private static void checkResolve(JsonNode in, JsonNode expected) {
    JsonNode queries = in.get("queries");
    JsonNode results = expected.get("results");
    assertEquals(queries.size(), results.size());
    for (int q = 0; q < queries.size(); q++) {
      int spec = queries.get(q).get("spec").asInt();
      int depth = queries.get(q).get("total_layers").asInt();
      JsonNode result = results.get(q);
      if (result.has("error")) {
        LayerIndexException e =
            assertThrows(LayerIndexException.class, () -> LayerIndex.resolve(spec, depth));
        assertEquals(result.get("error").get("kind").asText(), e.kind().referenceName());
        assertEquals(result.get("error").get("message").asText(), e.getMessage());
        assertTrue(e.side().isEmpty());
      } else {
        assertEquals(result.get("resolved").asInt(), LayerIndex.resolve(spec, depth));
      }
    }
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }
}
