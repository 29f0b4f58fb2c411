package dev.drivekd.core.attention;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An inclusive range of layer specs {@code [start, end]}, resolved separately against each model's
 * depth (method.md 1.5). The reference default {@code (0, -2)} selects every layer but the last.
 *
 * @param start inclusive start spec (may be negative)
 * @param end inclusive end spec (may be negative)
 */
public record LayerRange(int start, int end) {

  /** The reference default {@code --intermediate-layer-start 0 --intermediate-layer-end -2}. */
  public static LayerRange defaults() {
    return new LayerRange(0, -2);
  }

  /** The range {@code [start, end]} (inclusive specs). */
  public static LayerRange of(int start, int end) {
    return new LayerRange(start, end);
  }

  /**
   * Resolves the range against a depth. A depth of 0 gives an empty list and no error.
   *
   * @return the ascending layer indices {@code resolve(start) .. resolve(end)}
   * @throws LayerIndexException if a spec is out of range or start lies after end
   */
  public List<Integer> resolve(int depth) {
    if (depth == 0) {
      return List.of();
    }
    int from = LayerIndex.resolve(start, depth);
    int to = LayerIndex.resolve(end, depth);
    if (from > to) {
      throw new LayerIndexException(
          LayerIndexException.Kind.START_AFTER_END,
          "Invalid index range: start_idx=" + from + " > end_idx=" + to);
    }
    List<Integer> out = new ArrayList<>(to - from + 1);
    for (int i = from; i <= to; i++) {
      out.add(i);
    }
    return Collections.unmodifiableList(out);
  }
}
