package dev.drivekd.teachers.cache;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.model.ModelCard;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The teacher panel a cache was computed from, recorded in {@code index.json} (version 2) so that a
 * run can train from the cache without loading any teacher: each teacher's {@link ModelCard}
 * (depth, heads, vocabulary, tokens per image, image size, tokenizer identity), which teacher
 * played which capability, and the student card whose encoder laid out the samples.
 *
 * @param student the student's card: its tokenizer, tokens per image and image size made the
 *     batches; its depth resolved the recipe's teacher layers
 * @param teachers each cache teacher's card, by the teacher's name in the cache recipe
 * @param roles the teacher name playing each capability, by {@link Capability#key()}
 * @param distillation the distillation recipe the entries were derived from, as text (provenance
 *     only; compatibility is decided by the entries)
 */
public record CachedPanel(
    ModelCard student,
    Map<String, ModelCard> teachers,
    Map<String, String> roles,
    String distillation) {

  /** Checks presence and copies the maps (teachers by name, roles in capability order). */
  public CachedPanel {
    if (student == null || teachers == null || roles == null || roles.isEmpty()) {
      throw new IllegalArgumentException("a cached panel needs a student card, teachers and roles");
    }
    teachers = Collections.unmodifiableMap(new TreeMap<>(teachers));
    Map<String, String> ordered = new LinkedHashMap<>();
    for (Capability c : Capability.values()) {
      if (roles.containsKey(c.key())) {
        ordered.put(c.key(), roles.get(c.key()));
      }
    }
    if (ordered.size() != roles.size()) {
      throw new IllegalArgumentException(
          "roles must be keyed by capability (perception, reasoning, planning): " + roles.keySet());
    }
    for (Map.Entry<String, String> e : ordered.entrySet()) {
      if (!teachers.containsKey(e.getValue())) {
        throw new IllegalArgumentException(
            "the " + e.getKey() + " teacher '" + e.getValue() + "' has no card");
      }
    }
    roles = Collections.unmodifiableMap(ordered);
  }

  /** The name of the teacher playing {@code capability}, or null when none does. */
  public String teacherOf(Capability capability) {
    return roles.get(capability.key());
  }

  /** Checks that every teacher with a card is in {@code recipe} with the card's depth. */
  void requireConsistent(CacheRecipe recipe) {
    for (Map.Entry<String, ModelCard> e : teachers.entrySet()) {
      TeacherIdentity t = recipe.teacher(e.getKey());
      if (t == null || t.depth() != e.getValue().depth()) {
        throw new IllegalArgumentException(
            "panel teacher '"
                + e.getKey()
                + "' ("
                + e.getValue().depth()
                + " layers) is not a teacher of the cache recipe with that depth: "
                + recipe.teachers());
      }
    }
  }
}
