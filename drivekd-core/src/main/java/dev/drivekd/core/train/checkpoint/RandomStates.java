package dev.drivekd.core.train.checkpoint;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The states of a run's random generators by name, so that a resumed run draws what the
 * uninterrupted run would have drawn: {@code long} words (for example gradproj's {@code
 * ShuffleRandom.state()}, a data-order generator) or opaque bytes (a serialised generator). Names
 * are unique across both kinds. Immutable; {@link #withLongs} and {@link #withBytes} return copies.
 */
public final class RandomStates {

  private static final RandomStates EMPTY = new RandomStates(Map.of(), Map.of());

  private final Map<String, long[]> longs;
  private final Map<String, byte[]> bytes;

  @JsonCreator
  private RandomStates(
      @JsonProperty("longs") Map<String, long[]> longs,
      @JsonProperty("bytes") Map<String, byte[]> bytes) {
    this.longs = copyLongs(longs == null ? Map.of() : longs);
    this.bytes = copyBytes(bytes == null ? Map.of() : bytes);
    for (String name : this.longs.keySet()) {
      if (this.bytes.containsKey(name)) {
        throw new IllegalArgumentException("random state '" + name + "' is defined twice");
      }
    }
  }

  /** No state. */
  public static RandomStates empty() {
    return EMPTY;
  }

  /** A copy with the state {@code name} set to {@code words}. */
  public RandomStates withLongs(String name, long... words) {
    Map<String, long[]> next = new LinkedHashMap<>(longs);
    next.put(checkName(name, bytes), words.clone());
    return new RandomStates(next, bytes);
  }

  /** A copy with the state {@code name} set to {@code state}. */
  public RandomStates withBytes(String name, byte[] state) {
    Map<String, byte[]> next = new LinkedHashMap<>(bytes);
    next.put(checkName(name, longs), state.clone());
    return new RandomStates(longs, next);
  }

  /** The words of state {@code name}, if it is a {@code long} state. */
  public Optional<long[]> longs(String name) {
    long[] words = longs.get(name);
    return Optional.ofNullable(words == null ? null : words.clone());
  }

  /** The single word of state {@code name} (e.g. a {@code ShuffleRandom}). */
  public long longState(String name) {
    long[] words = longs.get(name);
    if (words == null || words.length != 1) {
      throw new IllegalArgumentException(
          "no single-word random state '" + name + "'; states: " + names());
    }
    return words[0];
  }

  /** The bytes of state {@code name}, if it is a byte state. */
  public Optional<byte[]> bytes(String name) {
    byte[] state = bytes.get(name);
    return Optional.ofNullable(state == null ? null : state.clone());
  }

  /** Every state's name, long states first. */
  public java.util.List<String> names() {
    java.util.List<String> names = new java.util.ArrayList<>(longs.keySet());
    names.addAll(bytes.keySet());
    return names;
  }

  /** For JSON: the long states. */
  @JsonProperty("longs")
  Map<String, long[]> longsForJson() {
    return longs;
  }

  /** For JSON: the byte states (base64 in JSON). */
  @JsonProperty("bytes")
  Map<String, byte[]> bytesForJson() {
    return bytes;
  }

  private static String checkName(String name, Map<String, ?> other) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a random state needs a name");
    }
    if (other.containsKey(name)) {
      throw new IllegalArgumentException("random state '" + name + "' is defined twice");
    }
    return name;
  }

  private static Map<String, long[]> copyLongs(Map<String, long[]> in) {
    Map<String, long[]> out = new LinkedHashMap<>();
    in.forEach((k, v) -> out.put(k, Objects.requireNonNull(v, k).clone()));
    return Collections.unmodifiableMap(out);
  }

  private static Map<String, byte[]> copyBytes(Map<String, byte[]> in) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    in.forEach((k, v) -> out.put(k, Objects.requireNonNull(v, k).clone()));
    return Collections.unmodifiableMap(out);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RandomStates)) {
      return false;
    }
    RandomStates other = (RandomStates) o;
    if (!longs.keySet().equals(other.longs.keySet())
        || !bytes.keySet().equals(other.bytes.keySet())) {
      return false;
    }
    for (Map.Entry<String, long[]> e : longs.entrySet()) {
      if (!Arrays.equals(e.getValue(), other.longs.get(e.getKey()))) {
        return false;
      }
    }
    for (Map.Entry<String, byte[]> e : bytes.entrySet()) {
      if (!Arrays.equals(e.getValue(), other.bytes.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = names().hashCode();
    for (long[] v : longs.values()) {
      h = 31 * h + Arrays.hashCode(v);
    }
    for (byte[] v : bytes.values()) {
      h = 31 * h + Arrays.hashCode(v);
    }
    return h;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("RandomStates{");
    longs.forEach((k, v) -> sb.append(k).append('=').append(Arrays.toString(v)).append(' '));
    bytes.forEach((k, v) -> sb.append(k).append("=<").append(v.length).append(" bytes> "));
    return sb.append('}').toString();
  }
}
