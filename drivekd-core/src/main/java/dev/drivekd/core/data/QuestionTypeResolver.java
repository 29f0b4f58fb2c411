package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Assigns a capability to a raw record ({@code train._canonicalize_dataset_items}): the type is
 * read from {@code question_type}, else {@code type}, else {@code capability}; the first key
 * present wins even when its value is null, and an unknown type follows the {@link
 * UnknownTypePolicy}.
 */
public final class QuestionTypeResolver {

  /** The keys that may hold the question type, in precedence order. */
  public static final List<String> TYPE_KEYS = List.of("question_type", "type", "capability");

  private final UnknownTypePolicy policy;

  /** Creates a resolver with the given policy for unknown types. */
  public QuestionTypeResolver(UnknownTypePolicy policy) {
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /**
   * Resolves one record.
   *
   * @param item the record, a JSON object
   * @param file the dataset file, for error messages
   * @param recordIndex the record's position, for error messages
   * @throws DatasetException if the type is unknown under the error policy
   */
  public TypeAssignment resolve(JsonNode item, Path file, int recordIndex) {
    String field = null;
    JsonNode raw = null;
    for (String key : TYPE_KEYS) {
      if (item.has(key)) {
        field = key;
        raw = item.get(key);
        break;
      }
    }
    String rawType = raw == null || raw.isNull() ? null : PythonStrings.str(raw);
    Optional<Capability> capability = Capability.fromQuestionType(raw);
    if (capability.isPresent()) {
      return new TypeAssignment(capability.get(), field, rawType, false);
    }
    if (policy.isError()) {
      String problem =
          field == null
              ? "no question type: expected one of the keys " + TYPE_KEYS
              : "unknown question type "
                  + raw
                  + ": expected perception, reasoning, planning or one of their aliases";
      throw DatasetException.forField(
          file,
          recordIndex,
          field == null ? TYPE_KEYS.get(0) : field,
          problem + " (or read with an UnknownTypePolicy fallback)");
    }
    return new TypeAssignment(policy.fallbackCapability().orElseThrow(), field, rawType, true);
  }
}
