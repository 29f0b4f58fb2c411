package dev.drivekd.gradproj;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Flattens the golden files' nested JSON lists (row-major) into double arrays. */
final class Nested {
  private Nested() {}

  static double[] flatten(JsonNode node) {
    List<Double> out = new ArrayList<>();
    collect(node, out);
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static void collect(JsonNode node, List<Double> out) {
    if (node.isArray()) {
      for (JsonNode child : node) {
        collect(child, out);
      }
    } else {
      out.add(node.asDouble());
    }
  }
}
