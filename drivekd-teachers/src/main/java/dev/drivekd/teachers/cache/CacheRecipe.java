package dev.drivekd.teachers.cache;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a teacher-target cache holds per sample: the teachers, and for each the signals and layers
 * with the kind of target stored. Entries keep their order; their position is their id in the chunk
 * files.
 *
 * @param teachers the teachers, unique by name
 * @param entries the targets per sample, unique by key
 */
public record CacheRecipe(List<TeacherIdentity> teachers, List<Entry> entries) {

  /**
   * One target of every sample.
   *
   * @param teacher the teacher's name
   * @param signal the signal key
   * @param layer the resolved teacher layer
   * @param kind what is stored
   */
  public record Entry(String teacher, String signal, int layer, TargetKind kind) {

    /** Checks that the kind is given. */
    public Entry {
      if (kind == null) {
        throw new IllegalArgumentException("entry " + teacher + "/" + signal + " needs a kind");
      }
    }

    /** The key this entry stores. */
    public TargetKey key() {
      return new TargetKey(teacher, signal, layer);
    }

    @Override
    public String toString() {
      return key() + " (" + kind + ")";
    }
  }

  /** Validates names, layers and uniqueness, and copies the lists. */
  @JsonCreator
  public CacheRecipe(
      @JsonProperty("teachers") List<TeacherIdentity> teachers,
      @JsonProperty("entries") List<Entry> entries) {
    this.teachers = List.copyOf(teachers);
    this.entries = List.copyOf(entries);
    Map<String, TeacherIdentity> byName = new LinkedHashMap<>();
    for (TeacherIdentity t : this.teachers) {
      if (byName.put(t.name(), t) != null) {
        throw new IllegalArgumentException("teacher '" + t.name() + "' is listed twice");
      }
    }
    java.util.Set<TargetKey> keys = new java.util.HashSet<>();
    for (Entry e : this.entries) {
      TeacherIdentity t = byName.get(e.teacher());
      if (t == null) {
        throw new IllegalArgumentException(
            "entry " + e + " names teacher '" + e.teacher() + "', which is not listed");
      }
      if (e.layer() >= t.depth()) {
        throw new IllegalArgumentException(
            "entry "
                + e
                + ": layer "
                + e.layer()
                + " is not below the teacher's depth "
                + t.depth());
      }
      if (!keys.add(e.key())) {
        throw new IllegalArgumentException("entry " + e.key() + " is listed twice");
      }
    }
    if (this.entries.isEmpty()) {
      throw new IllegalArgumentException("a cache recipe needs at least one entry");
    }
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The teacher named {@code name}, or null. */
  public TeacherIdentity teacher(String name) {
    for (TeacherIdentity t : teachers) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** The id (position) of the entry with {@code key}, or -1. */
  public int indexOf(TargetKey key) {
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).key().equals(key)) {
        return i;
      }
    }
    return -1;
  }

  /** The entries of one teacher and signal, by layer. */
  public Map<Integer, Entry> entries(String teacher, String signal) {
    Map<Integer, Entry> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (e.teacher().equals(teacher) && e.signal().equals(signal)) {
        out.put(e.layer(), e);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** Builder. */
  public static final class Builder {
    private final List<TeacherIdentity> teachers = new ArrayList<>();
    private final List<Entry> entries = new ArrayList<>();

    private Builder() {}

    /** Adds a teacher. */
    public Builder addTeacher(TeacherIdentity teacher) {
      teachers.add(teacher);
      return this;
    }

    /** Adds a target of every sample. */
    public Builder add(String teacher, String signal, int layer, TargetKind kind) {
      entries.add(new Entry(teacher, signal, layer, kind));
      return this;
    }

    /** Adds one target per layer, all of the same kind (e.g. a reasoning signal's layers). */
    public Builder addLayers(
        String teacher, String signal, Iterable<Integer> layers, TargetKind kind) {
      for (int layer : layers) {
        add(teacher, signal, layer, kind);
      }
      return this;
    }

    /** Builds and validates the recipe. */
    public CacheRecipe build() {
      return new CacheRecipe(teachers, entries);
    }
  }
}
