package dev.drivekd.examples.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mapping of a recipe, read strictly: every value is fetched by key with its type checked,
 * strings get {@code ${VAR}} / {@code ${VAR:-default}} substitution from the environment, and
 * {@link #finish()} refuses any key that nothing read. Every error names the file and the dotted
 * key.
 */
final class YamlSection {

  private static final Pattern VARIABLE =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  private final String file;
  private final String path;
  private final JsonNode node;
  private final Map<String, String> env;
  private final Set<String> read = new TreeSet<>();

  YamlSection(String file, String path, JsonNode node, Map<String, String> env) {
    this.file = file;
    this.path = path;
    this.node = node;
    this.env = env;
    if (node == null || !node.isObject()) {
      throw error("", "expected a mapping of keys, found " + kind(node));
    }
  }

  RecipeException error(String key, String problem) {
    String full = path.isEmpty() ? key : key.isEmpty() ? path : path + "." + key;
    return new RecipeException(file, full, problem);
  }

  boolean has(String key) {
    return node.has(key) && !node.get(key).isNull();
  }

  private JsonNode get(String key) {
    read.add(key);
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? null : v;
  }

  /** A nested mapping, or empty when absent. */
  Optional<YamlSection> section(String key) {
    JsonNode v = get(key);
    return v == null ? Optional.empty() : Optional.of(new YamlSection(file, child(key), v, env));
  }

  /** A nested mapping that must be there. */
  YamlSection requiredSection(String key) {
    return section(key).orElseThrow(() -> error(key, "missing (a mapping of keys)"));
  }

  Optional<String> text(String key) {
    JsonNode v = get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isTextual() && !v.isNumber() && !v.isBoolean()) {
      throw error(key, "expected a string, found " + kind(v));
    }
    return Optional.of(substitute(key, v.asText()));
  }

  String requiredText(String key, String what) {
    return text(key).orElseThrow(() -> error(key, "missing (" + what + ")"));
  }

  /** One of {@code allowed} (case-insensitive), or {@code fallback} when absent. */
  String choice(String key, String fallback, String... allowed) {
    Optional<String> v = text(key);
    if (v.isEmpty()) {
      return fallback;
    }
    for (String a : allowed) {
      if (a.equalsIgnoreCase(v.get().strip())) {
        return a;
      }
    }
    throw error(key, "\"" + v.get() + "\" is not one of " + String.join(", ", allowed));
  }

  Optional<Path> path(String key) {
    return text(key).map(Path::of);
  }

  long integer(String key, long fallback, long min, long max) {
    JsonNode v = get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.canConvertToLong() || !v.isIntegralNumber()) {
      throw error(key, "expected an integer, found " + kind(v) + " " + v);
    }
    long x = v.asLong();
    if (x < min || x > max) {
      throw error(key, x + " is outside " + min + ".." + max);
    }
    return x;
  }

  Optional<Integer> optionalInteger(String key) {
    JsonNode v = get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw error(key, "expected an integer, found " + kind(v) + " " + v);
    }
    return Optional.of(v.asInt());
  }

  double number(String key, double fallback, double min, double max) {
    JsonNode v = get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.isNumber()) {
      throw error(key, "expected a number, found " + kind(v) + " " + v);
    }
    double x = v.asDouble();
    if (!(x >= min && x <= max)) {
      throw error(key, x + " is outside " + min + ".." + max);
    }
    return x;
  }

  boolean bool(String key, boolean fallback) {
    JsonNode v = get(key);
    if (v == null) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw error(key, "expected true or false, found " + kind(v) + " " + v);
    }
    return v.asBoolean();
  }

  /** A list of numbers, or empty when absent. */
  Optional<double[]> numbers(String key, int size) {
    JsonNode v = get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!v.isArray() || (size > 0 && v.size() != size)) {
      throw error(
          key, "expected a list of " + (size > 0 ? size + " " : "") + "numbers, found " + v);
    }
    double[] out = new double[v.size()];
    for (int i = 0; i < out.length; i++) {
      if (!v.get(i).isNumber()) {
        throw error(key + "[" + i + "]", "expected a number, found " + v.get(i));
      }
      out[i] = v.get(i).asDouble();
    }
    return Optional.of(out);
  }

  /** The keys present, in file order. */
  List<String> keys() {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  /** Refuses the keys nothing read: a typo must not pass silently. */
  void finish() {
    for (String key : keys()) {
      if (!read.contains(key)) {
        throw error(key, "unknown key; allowed here: " + String.join(", ", read));
      }
    }
  }

  /** Marks keys as known without reading them (read by another part). */
  void allow(String... keys) {
    read.addAll(List.of(keys));
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private String substitute(String key, String value) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = env.get(m.group(1));
      if (v == null) {
        if (m.group(2) == null) {
          throw error(
              key,
              "environment variable "
                  + m.group(1)
                  + " is not set (write ${"
                  + m.group(1)
                  + ":-default} for a default)");
        }
        v = m.group(3);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String kind(JsonNode v) {
    if (v == null || v.isNull()) {
      return "nothing";
    }
    if (v.isObject()) {
      return "a mapping";
    }
    if (v.isArray()) {
      return "a list";
    }
    if (v.isTextual()) {
      return "a string";
    }
    if (v.isBoolean()) {
      return "a boolean";
    }
    return "a number";
  }
}
