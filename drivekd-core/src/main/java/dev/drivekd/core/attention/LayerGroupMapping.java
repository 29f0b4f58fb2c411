package dev.drivekd.core.attention;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The reference's sliding-window layer-group mapping (trainer.py L189-203, method.md 1.5). With
 * {@code k} student and {@code m} teacher indices, resolved separately (student first), the group
 * size is {@code g = max(1, m - k + 1)} and student index {@code i} maps to {@code teacher[t0 : t0
 * + g]} with {@code t0 = min(i, m - g)}. A depth of 0 gives an empty mapping.
 */
public final class LayerGroupMapping {

  private final List<Integer> studentIndices;
  private final List<Integer> teacherIndices;
  private final List<LayerGroup> groups;

  private LayerGroupMapping(
      List<Integer> studentIndices, List<Integer> teacherIndices, List<LayerGroup> groups) {
    this.studentIndices = studentIndices;
    this.teacherIndices = teacherIndices;
    this.groups = groups;
  }

  /**
   * Builds the mapping of {@code range} for a student and a teacher of the given depths.
   *
   * @throws LayerIndexException with its {@link LayerIndexException#side()} set when the range does
   *     not fit one of the models
   */
  public static LayerGroupMapping of(LayerRange range, int studentDepth, int teacherDepth) {
    List<Integer> student = resolve(range, studentDepth, LayerIndexException.Side.STUDENT);
    List<Integer> teacher = resolve(range, teacherDepth, LayerIndexException.Side.TEACHER);
    int k = student.size();
    int m = teacher.size();
    List<LayerGroup> groups = new ArrayList<>(k);
    if (k > 0 && m > 0) {
      int g = Math.max(1, m - k + 1);
      for (int i = 0; i < k; i++) {
        int t0 = Math.min(i, m - g);
        groups.add(new LayerGroup(student.get(i), teacher.subList(t0, t0 + g)));
      }
    }
    return new LayerGroupMapping(student, teacher, Collections.unmodifiableList(groups));
  }

  /** The resolved student indices, ascending. */
  public List<Integer> studentIndices() {
    return studentIndices;
  }

  /** The resolved teacher indices, ascending. */
  public List<Integer> teacherIndices() {
    return teacherIndices;
  }

  /** One group per student index, in student order; empty when either depth is 0. */
  public List<LayerGroup> groups() {
    return groups;
  }

  /** The common group length {@code g}, or empty when the mapping is empty. */
  public OptionalInt groupSize() {
    return groups.isEmpty() ? OptionalInt.empty() : OptionalInt.of(groups.get(0).teachers().size());
  }

  /** The distinct teacher layers that some group uses, ascending. */
  public SortedSet<Integer> teacherLayersUsed() {
    SortedSet<Integer> used = new TreeSet<>();
    for (LayerGroup group : groups) {
      used.addAll(group.teachers());
    }
    return Collections.unmodifiableSortedSet(used);
  }

  private static List<Integer> resolve(LayerRange range, int depth, LayerIndexException.Side side) {
    if (depth < 0) {
      throw new IllegalArgumentException(
          side.referenceName() + " depth must be >= 0, got " + depth);
    }
    try {
      return range.resolve(depth);
    } catch (LayerIndexException e) {
      throw e.on(side);
    }
  }
}
