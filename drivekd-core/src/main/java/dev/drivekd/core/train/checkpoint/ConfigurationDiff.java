package dev.drivekd.core.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The keys in which two run configurations (JSON objects) differ, as dotted paths ({@code
 * projection.method}, {@code lossWeights.static.ce}); arrays are compared whole. A resumed run
 * compares its configuration with the checkpoint's and refuses to continue under another one unless
 * the user allowed those keys.
 */
public final class ConfigurationDiff {

  /** One differing key: its value in the checkpoint and in this run ({@code <absent>} if none). */
  public record Change(String key, String before, String after) {
    @Override
    public String toString() {
      return key + ": " + before + " -> " + after;
    }
  }

  private ConfigurationDiff() {}

  /** Every key whose value differs between {@code before} and {@code after}, in key order. */
  public static List<Change> between(JsonNode before, JsonNode after) {
    Map<String, String> a = flatten(before);
    Map<String, String> b = flatten(after);
    Set<String> keys = new java.util.TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<Change> changes = new ArrayList<>();
    for (String key : keys) {
      String x = a.getOrDefault(key, "<absent>");
      String y = b.getOrDefault(key, "<absent>");
      if (!x.equals(y)) {
        changes.add(new Change(key, x, y));
      }
    }
    return changes;
  }

  /**
   * The changes whose key is not allowed: a key is allowed when it equals an entry of {@code
   * allowed} or lies under one ({@code "schedule"} allows {@code schedule.totalSteps}).
   */
  public static List<Change> notAllowed(List<Change> changes, Set<String> allowed) {
    List<Change> out = new ArrayList<>();
    for (Change c : changes) {
      boolean ok = false;
      for (String prefix : allowed) {
        if (c.key().equals(prefix) || c.key().startsWith(prefix + ".")) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        out.add(c);
      }
    }
    return out;
  }

  private static Map<String, String> flatten(JsonNode node) {
    Map<String, String> out = new TreeMap<>();
    flatten("", node, out);
    return out;
  }

  private static void flatten(String path, JsonNode node, Map<String, String> out) {
    if (node != null && node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> e = fields.next();
        flatten(path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), out);
      }
    } else if (node != null && !node.isMissingNode()) {
      out.put(path, node.isTextual() ? node.textValue() : node.toString());
    }
  }
}
