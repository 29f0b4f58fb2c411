package dev.drivekd.core.attention;

import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Which layers an attention loss compares: one layer spec resolved on each side (perception: 0,
 * planning: -2, Table 3 "Full Attn (1/penultimate)"), or an intermediate {@link LayerRange} with
 * sliding-window teacher groups (reasoning, method.md 1.5). A signal names the layers it needs, so
 * only those are requested from a {@link LayerMaps}.
 */
public final class AttentionSignal {

  private final Integer layerSpec;
  private final LayerRange range;

  private AttentionSignal(Integer layerSpec, LayerRange range) {
    this.layerSpec = layerSpec;
    this.range = range;
  }

  /** Student layer {@code spec} against teacher layer {@code spec}, each resolved on its side. */
  public static AttentionSignal atLayer(int spec) {
    return new AttentionSignal(spec, null);
  }

  /** Layer index 0 on both sides (the perception signal). */
  public static AttentionSignal firstLayer() {
    return atLayer(0);
  }

  /** Layer index -2 on both sides (the planning signal). */
  public static AttentionSignal penultimateLayer() {
    return atLayer(-2);
  }

  /** The layers of {@code range} with sliding-window teacher groups (the reasoning signal). */
  public static AttentionSignal intermediate(LayerRange range) {
    if (range == null) {
      throw new IllegalArgumentException("range must not be null");
    }
    return new AttentionSignal(null, range);
  }

  /** Whether this signal averages teacher groups over a layer range. */
  public boolean isGrouped() {
    return range != null;
  }

  /**
   * The student-teacher layer groups for models of the given depths, in student order.
   *
   * @throws LayerIndexException (with its side) when a spec does not fit a model
   */
  public List<LayerGroup> layerGroups(int studentDepth, int teacherDepth) {
    if (range != null) {
      return LayerGroupMapping.of(range, studentDepth, teacherDepth).groups();
    }
    int student = resolve(studentDepth, LayerIndexException.Side.STUDENT);
    int teacher = resolve(teacherDepth, LayerIndexException.Side.TEACHER);
    return List.of(LayerGroup.pair(student, teacher));
  }

  /** The distinct student layers this signal needs, ascending. */
  public SortedSet<Integer> studentLayers(int studentDepth, int teacherDepth) {
    SortedSet<Integer> out = new TreeSet<>();
    for (LayerGroup group : layerGroups(studentDepth, teacherDepth)) {
      out.add(group.student());
    }
    return Collections.unmodifiableSortedSet(out);
  }

  /** The distinct teacher layers this signal needs, ascending. */
  public SortedSet<Integer> teacherLayers(int studentDepth, int teacherDepth) {
    SortedSet<Integer> out = new TreeSet<>();
    for (LayerGroup group : layerGroups(studentDepth, teacherDepth)) {
      out.addAll(group.teachers());
    }
    return Collections.unmodifiableSortedSet(out);
  }

  @Override
  public String toString() {
    return range != null
        ? "intermediate[" + range.start() + ".." + range.end() + "]"
        : "layer[" + layerSpec + "]";
  }

  private int resolve(int depth, LayerIndexException.Side side) {
    try {
      return LayerIndex.resolve(layerSpec, depth);
    } catch (LayerIndexException e) {
      throw e.on(side);
    }
  }
}
