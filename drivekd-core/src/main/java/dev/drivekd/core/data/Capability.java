package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The three driving capabilities of Drive-KD, each served by its own teacher: perception (index 0),
 * reasoning (1) and planning (2), as in the reference's {@code question_type_to_model}.
 */
public enum Capability {
  PERCEPTION,
  REASONING,
  PLANNING;

  private static final Map<String, Capability> ALIASES =
      Map.ofEntries(
          Map.entry("perception", PERCEPTION),
          Map.entry("perceptual", PERCEPTION),
          Map.entry("perceive", PERCEPTION),
          Map.entry("per", PERCEPTION),
          Map.entry("p", PERCEPTION),
          Map.entry("reasoning", REASONING),
          Map.entry("reason", REASONING),
          Map.entry("logical_reasoning", REASONING),
          Map.entry("infer", REASONING),
          Map.entry("r", REASONING),
          Map.entry("planning", PLANNING),
          Map.entry("plan", PLANNING),
          Map.entry("pl", PLANNING),
          Map.entry("d", PLANNING),
          Map.entry("decision", PLANNING));

  /** The model (teacher) index: perception 0, reasoning 1, planning 2. */
  public int index() {
    return ordinal();
  }

  /** The canonical lower-case name, such as {@code "perception"}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The capability with the given model index. */
  public static Capability ofIndex(int index) {
    Capability[] values = values();
    if (index < 0 || index >= values.length) {
      throw new IllegalArgumentException("capability index must be 0, 1 or 2, got " + index);
    }
    return values[index];
  }

  /**
   * Normalises a raw question type as the reference does (method.md 6.2): Python {@code str()} of
   * non-strings, {@code strip().lower()}, {@code '-'} and {@code ' '} to {@code '_'}, exact
   * aliases, then the substring fallbacks {@code percep}, {@code reason}, {@code plan} in that
   * order.
   *
   * @param raw a String, Boolean, Number, Jackson {@code JsonNode} or null
   * @return the capability, or empty when the type is null or unknown
   */
  public static Optional<Capability> fromQuestionType(Object raw) {
    if (raw == null
        || (raw instanceof JsonNode
            && (((JsonNode) raw).isNull() || ((JsonNode) raw).isMissingNode()))) {
      return Optional.empty();
    }
    String s = PythonStrings.strip(PythonStrings.str(raw)).toLowerCase(Locale.ROOT);
    s = s.replace('-', '_').replace(' ', '_');
    Capability alias = ALIASES.get(s);
    if (alias != null) {
      return Optional.of(alias);
    }
    if (s.contains("percep")) {
      return Optional.of(PERCEPTION);
    }
    if (s.contains("reason")) {
      return Optional.of(REASONING);
    }
    if (s.contains("plan")) {
      return Optional.of(PLANNING);
    }
    return Optional.empty();
  }
}
