package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.TeacherTargets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;

/**
 * Teacher targets from several sources, one per capability: typically the small text-to-vision
 * targets of perception and planning from a cache and the reasoning full maps from a live teacher
 * (a 28-layer teacher's reasoning maps are about 325 MB per sample, teacher-cache.md "Sizes"). Each
 * source is asked once per sample for the capabilities it serves.
 *
 * <pre>{@code
 * TeacherTargets targets = MixedTeacherTargets.of(Map.of(
 *     Capability.PERCEPTION, cached, Capability.PLANNING, cached,
 *     Capability.REASONING, TeacherPanel.of(Map.of(Capability.REASONING, reasoner))));
 * }</pre>
 */
public final class MixedTeacherTargets implements TeacherTargets {

  private final Map<Capability, TeacherTargets> sources;

  private MixedTeacherTargets(Map<Capability, TeacherTargets> sources) {
    this.sources = Collections.unmodifiableMap(new EnumMap<>(sources));
  }

  /**
   * Routes each capability to its source.
   *
   * @throws IllegalArgumentException when a source does not serve the capability routed to it
   */
  public static MixedTeacherTargets of(Map<Capability, ? extends TeacherTargets> sources) {
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("mixed teacher targets need at least one source");
    }
    Map<Capability, TeacherTargets> copy = new EnumMap<>(Capability.class);
    for (Map.Entry<Capability, ? extends TeacherTargets> e : sources.entrySet()) {
      if (!e.getValue().capabilities().contains(e.getKey())) {
        throw new IllegalArgumentException(
            e.getValue()
                + " does not serve "
                + e.getKey().key()
                + "; it serves "
                + e.getValue().capabilities());
      }
      copy.put(e.getKey(), e.getValue());
    }
    return new MixedTeacherTargets(copy);
  }

  @Override
  public Set<Capability> capabilities() {
    return sources.keySet();
  }

  @Override
  public ModelCard card(Capability capability) {
    return source(capability).card(capability);
  }

  @Override
  public Optional<String> weightsFingerprint(Capability capability) {
    return source(capability).weightsFingerprint(capability);
  }

  @Override
  public Map<Capability, LayerMaps> targets(
      int sampleIndex,
      DrivingSample sample,
      VlmBatch batch,
      Map<Capability, SortedSet<Integer>> layers) {
    Map<TeacherTargets, Map<Capability, SortedSet<Integer>>> bySource = new IdentityHashMap<>();
    List<TeacherTargets> order = new ArrayList<>();
    for (Map.Entry<Capability, SortedSet<Integer>> e : layers.entrySet()) {
      TeacherTargets source = source(e.getKey());
      if (!bySource.containsKey(source)) {
        bySource.put(source, new EnumMap<>(Capability.class));
        order.add(source);
      }
      bySource.get(source).put(e.getKey(), e.getValue());
    }
    Map<Capability, LayerMaps> out = new EnumMap<>(Capability.class);
    for (TeacherTargets source : order) {
      out.putAll(source.targets(sampleIndex, sample, batch, bySource.get(source)));
    }
    return out;
  }

  private TeacherTargets source(Capability capability) {
    TeacherTargets source = sources.get(capability);
    if (source == null) {
      throw new IllegalArgumentException(
          "no source serves " + capability.key() + "; sources serve " + sources.keySet());
    }
    return source;
  }

  /** Closes every distinct source once (all of them, even when one fails). */
  @Override
  public void close() {
    Set<TeacherTargets> closed = Collections.newSetFromMap(new IdentityHashMap<>());
    RuntimeException failure = null;
    for (TeacherTargets source : sources.values()) {
      if (closed.add(source)) {
        try {
          source.close();
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public String toString() {
    return "MixedTeacherTargets" + sources;
  }
}
