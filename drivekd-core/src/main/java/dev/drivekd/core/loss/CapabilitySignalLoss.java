package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.drivekd.core.attention.AttentionSignal;
import dev.drivekd.core.attention.LayerGroup;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A capability's soft loss (method.md 2.2): an {@link AttentionSignal} (which layers) compared with
 * an {@link AttentionLoss}, averaged over the signal's layer groups: {@code L = (1/|G|) Σ_s
 * loss(S_s, (1/|G_s|) Σ_{t∈G_s} T_t)}. The reference keys are {@code p:first_att_Atv} (layer 0,
 * masked t2v MSE), {@code r:intermediate} (layers 0..-2 with sliding groups, full-map MSE) and
 * {@code d:penult_att_Atv} (layer -2, masked t2v MSE). Only the needed layers are requested from
 * the {@link LayerMaps}, each teacher layer once; an empty mapping gives an attached zero.
 */
public final class CapabilitySignalLoss {

  /** Reference key of the perception loss. */
  public static final String PERCEPTION_KEY = "p:first_att_Atv";

  /** Reference key of the reasoning loss. */
  public static final String REASONING_KEY = "r:intermediate";

  /** Reference key of the planning loss. */
  public static final String PLANNING_KEY = "d:penult_att_Atv";

  private final String key;
  private final AttentionSignal signal;
  private final AttentionLoss loss;

  private CapabilitySignalLoss(String key, AttentionSignal signal, AttentionLoss loss) {
    if (key == null || signal == null || loss == null) {
      throw new IllegalArgumentException("key, signal and loss must not be null");
    }
    this.key = key;
    this.signal = signal;
    this.loss = loss;
  }

  /** Perception: layer-0 text-to-vision masked MSE ({@code p:first_att_Atv}, L298-315). */
  public static CapabilitySignalLoss perception() {
    return of(PERCEPTION_KEY, AttentionSignal.firstLayer(), AttentionLoss.maskedMse());
  }

  /** Reasoning: intermediate full-map MSE over layers 0..-2 ({@code r:intermediate}). */
  public static CapabilitySignalLoss reasoning() {
    return reasoning(LayerRange.defaults());
  }

  /** Reasoning over {@code range} (e.g. Table 3's "mid 2→penultimate−1" is {@code (1, -3)}). */
  public static CapabilitySignalLoss reasoning(LayerRange range) {
    return of(REASONING_KEY, AttentionSignal.intermediate(range), AttentionLoss.fullMse());
  }

  /** Planning: layer -2 text-to-vision masked MSE ({@code d:penult_att_Atv}, L346-363). */
  public static CapabilitySignalLoss planning() {
    return of(PLANNING_KEY, AttentionSignal.penultimateLayer(), AttentionLoss.maskedMse());
  }

  /** Any signal with any attention loss, e.g. the Table 3 variants, under a task key. */
  public static CapabilitySignalLoss of(String key, AttentionSignal signal, AttentionLoss loss) {
    return new CapabilitySignalLoss(key, signal, loss);
  }

  /** The task key, e.g. {@code p:first_att_Atv}. */
  public String key() {
    return key;
  }

  /** The layers compared. */
  public AttentionSignal signal() {
    return signal;
  }

  /** The comparison applied per layer group. */
  public AttentionLoss loss() {
    return loss;
  }

  /**
   * The per-layer terms, in student order: for each group, {@code loss(S_s, mean of the group's
   * teacher maps)} per sample. Empty when the mapping is empty.
   */
  public List<LayerTerm> perLayer(LayerMaps student, LayerMaps teacher, TokenLayout layout) {
    List<LayerGroup> groups = signal.layerGroups(student.depth(), teacher.depth());
    List<LayerTerm> terms = new ArrayList<>(groups.size());
    forEachTerm(groups, student, teacher, layout, terms::add);
    return terms;
  }

  /** Per-sample values {@code [B]}: the mean of the layer terms (an attached zero if none). */
  public NDArray perSample(LayerMaps student, LayerMaps teacher, TokenLayout layout) {
    List<LayerGroup> groups = signal.layerGroups(student.depth(), teacher.depth());
    return LossSupport.scoped(
        () -> {
          if (groups.isEmpty()) {
            if (student.depth() == 0) {
              throw new IllegalArgumentException(
                  key + ": the student returned no attention layers");
            }
            return LossSupport.attachedZero(student.headAveraged(0));
          }
          NDArray[] sum = new NDArray[1];
          forEachTerm(
              groups,
              student,
              teacher,
              layout,
              term -> sum[0] = sum[0] == null ? term.perSample() : sum[0].add(term.perSample()));
          return Scalars.div(sum[0], groups.size());
        });
  }

  /** The batch loss: the mean of {@link #perSample} (a scalar). */
  public NDArray evaluate(LayerMaps student, LayerMaps teacher, TokenLayout layout) {
    return LossSupport.scoped(() -> perSample(student, teacher, layout).mean());
  }

  @Override
  public String toString() {
    return key + "=" + loss.name() + "@" + signal;
  }

  private void forEachTerm(
      List<LayerGroup> groups,
      LayerMaps student,
      LayerMaps teacher,
      TokenLayout layout,
      Consumer<LayerTerm> sink) {
    // Each teacher layer is fetched once and dropped after the last group that uses it, so the
    // sliding windows keep at most one window of teacher maps alive.
    Map<Integer, Integer> lastUse = new HashMap<>();
    for (int g = 0; g < groups.size(); g++) {
      for (int t : groups.get(g).teachers()) {
        lastUse.put(t, g);
      }
    }
    Map<Integer, NDArray> teacherMaps = new HashMap<>();
    for (int g = 0; g < groups.size(); g++) {
      LayerGroup group = groups.get(g);
      NDArray values =
          LossSupport.scoped(
              () -> {
                NDArray target = null;
                for (int t : group.teachers()) {
                  NDArray map =
                      teacherMaps.computeIfAbsent(t, l -> detached(teacher.headAveraged(l)));
                  target = target == null ? map : target.add(map);
                }
                if (group.teachers().size() > 1) {
                  target = Scalars.div(target, group.teachers().size());
                }
                return loss.perSample(student.headAveraged(group.student()), target, layout);
              });
      sink.accept(new LayerTerm(group, values));
      for (int t : group.teachers()) {
        if (lastUse.get(t) == g) {
          teacherMaps.remove(t).close();
        }
      }
    }
  }

  private static NDArray detached(NDArray map) {
    NDArray out = map.stopGradient();
    // Kept across groups: owned by the cache, not by the scope of the group that fetched it.
    NDScope.unregister(out);
    return out;
  }
}
