package dev.drivekd.core.train;

import dev.drivekd.core.attention.LayerIndexException;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.train.weighting.TaskKeys;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the student learns from each capability's teacher: an attention signal and a loss per
 * capability. The paper's recipe ({@link #paper()}) is layer-0 text-to-vision MSE (perception), the
 * intermediate layers' group-averaged full-map MSE (reasoning) and the penultimate layer's
 * text-to-vision MSE (planning). A recipe names the layers it needs, so the student and each
 * teacher materialise only those.
 */
public final class DistillationRecipe {

  private final Map<Capability, CapabilitySignalLoss> losses;

  private DistillationRecipe(Map<Capability, CapabilitySignalLoss> losses) {
    this.losses = Collections.unmodifiableMap(new EnumMap<>(losses));
  }

  /** The paper's recipe (method.md 1.3-1.5, 2.2). */
  public static DistillationRecipe paper() {
    Map<Capability, CapabilitySignalLoss> m = new EnumMap<>(Capability.class);
    m.put(Capability.PERCEPTION, CapabilitySignalLoss.perception());
    m.put(Capability.REASONING, CapabilitySignalLoss.reasoning());
    m.put(Capability.PLANNING, CapabilitySignalLoss.planning());
    return new DistillationRecipe(m);
  }

  /** A recipe with one loss per capability; a missing capability has no soft loss. */
  public static DistillationRecipe of(Map<Capability, CapabilitySignalLoss> losses) {
    for (Map.Entry<Capability, CapabilitySignalLoss> e : losses.entrySet()) {
      String expected = TaskKeys.of(e.getKey());
      if (!expected.equals(e.getValue().key())) {
        throw new IllegalArgumentException(
            "the "
                + e.getKey().key()
                + " loss must use the task key '"
                + expected
                + "', got '"
                + e.getValue().key()
                + "'");
      }
    }
    return new DistillationRecipe(losses);
  }

  /** The same recipe with {@code capability}'s loss replaced. */
  public DistillationRecipe with(Capability capability, CapabilitySignalLoss loss) {
    Map<Capability, CapabilitySignalLoss> m = new EnumMap<>(Capability.class);
    m.putAll(losses);
    m.put(capability, loss);
    return of(m);
  }

  /** The loss of a capability's teacher, or {@code null} when the recipe has none. */
  public CapabilitySignalLoss loss(Capability capability) {
    return losses.get(capability);
  }

  /** Every capability with a soft loss, in capability order. */
  public Map<Capability, CapabilitySignalLoss> losses() {
    return losses;
  }

  /** The student layers capability {@code c}'s loss needs against a teacher of that depth. */
  public SortedSet<Integer> studentLayers(Capability c, int studentDepth, int teacherDepth) {
    CapabilitySignalLoss loss = losses.get(c);
    return loss == null
        ? Collections.emptySortedSet()
        : loss.signal().studentLayers(studentDepth, teacherDepth);
  }

  /** The teacher layers capability {@code c}'s loss needs. */
  public SortedSet<Integer> teacherLayers(Capability c, int studentDepth, int teacherDepth) {
    CapabilitySignalLoss loss = losses.get(c);
    return loss == null
        ? Collections.emptySortedSet()
        : loss.signal().teacherLayers(studentDepth, teacherDepth);
  }

  /**
   * Checks, before training starts, that every loss's layers exist in the student and in its
   * teacher, and that teacher and student see the same token sequence.
   *
   * @throws IllegalArgumentException naming the capability, the model and the layer
   */
  public void validate(ModelCard student, Map<Capability, ModelCard> teachers) {
    for (Map.Entry<Capability, CapabilitySignalLoss> e : losses.entrySet()) {
      ModelCard teacher = teachers.get(e.getKey());
      if (teacher == null) {
        continue;
      }
      teacher.requireSameSequences(student);
      try {
        SortedSet<Integer> layers = new TreeSet<>();
        layers.addAll(e.getValue().signal().studentLayers(student.depth(), teacher.depth()));
        if (layers.isEmpty()) {
          throw new IllegalArgumentException(
              "the "
                  + e.getKey().key()
                  + " loss "
                  + e.getValue()
                  + " selects no layer of student "
                  + student.name()
                  + " ("
                  + student.depth()
                  + " layers)");
        }
      } catch (LayerIndexException ex) {
        throw new IllegalArgumentException(
            "the "
                + e.getKey().key()
                + " loss "
                + e.getValue()
                + " names a layer that student "
                + student.name()
                + " ("
                + student.depth()
                + " layers) or teacher "
                + teacher.name()
                + " ("
                + teacher.depth()
                + " layers) does not have: "
                + ex.getMessage(),
            ex);
      }
    }
  }

  @Override
  public String toString() {
    return losses.values().toString();
  }
}
