package dev.drivekd.teachers.panel;

import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.teachers.cache.WeightsFingerprint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Up to three frozen teachers, one per capability, serving live targets to the trainer. A model
 * that plays several roles (the reference's default: one 8B teacher for all three) runs once per
 * sample with the union of the layers its roles need (method.md 4.6), in evaluation mode and
 * without gradient.
 */
public final class TeacherPanel implements TeacherTargets {

  private final Map<Capability, VisionLanguageModel> roles;
  private final boolean ownsModels;
  private final Map<VisionLanguageModel, Optional<String>> fingerprints = new IdentityHashMap<>();

  private TeacherPanel(Map<Capability, VisionLanguageModel> roles, boolean ownsModels) {
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("a teacher panel needs at least one teacher");
    }
    this.roles = Collections.unmodifiableMap(new EnumMap<>(roles));
    this.ownsModels = ownsModels;
    for (VisionLanguageModel m : distinctModels()) {
      m.freeze(true);
    }
  }

  /** A panel over the given roles; the caller keeps and closes the models. */
  public static TeacherPanel of(Map<Capability, VisionLanguageModel> roles) {
    return new TeacherPanel(roles, false);
  }

  /** One model teaching every capability (the reference's default). */
  public static TeacherPanel single(VisionLanguageModel teacher) {
    Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
    for (Capability c : Capability.values()) {
      roles.put(c, Objects.requireNonNull(teacher));
    }
    return of(roles);
  }

  /** The same panel, closing its models when it is closed. */
  public TeacherPanel owningModels() {
    return new TeacherPanel(roles, true);
  }

  /** The model playing each role. */
  public Map<Capability, VisionLanguageModel> roles() {
    return roles;
  }

  /** The distinct models, in the order of their first role. */
  public List<VisionLanguageModel> distinctModels() {
    Set<VisionLanguageModel> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<VisionLanguageModel> out = new ArrayList<>();
    for (VisionLanguageModel m : roles.values()) {
      if (seen.add(m)) {
        out.add(m);
      }
    }
    return out;
  }

  @Override
  public Set<Capability> capabilities() {
    return roles.keySet();
  }

  @Override
  public ModelCard card(Capability capability) {
    return model(capability).card();
  }

  /**
   * The {@link WeightsFingerprint} of the model playing {@code capability}, computed once per
   * distinct model; empty for a model type whose weights drivekd cannot list.
   */
  @Override
  public synchronized Optional<String> weightsFingerprint(Capability capability) {
    VisionLanguageModel model = model(capability);
    return fingerprints.computeIfAbsent(
        model,
        m -> {
          try {
            return Optional.of(WeightsFingerprint.of(m));
          } catch (IllegalArgumentException e) {
            return Optional.empty();
          }
        });
  }

  @Override
  public Map<Capability, LayerMaps> targets(
      int sampleIndex,
      DrivingSample sample,
      VlmBatch batch,
      Map<Capability, SortedSet<Integer>> layers) {
    Map<VisionLanguageModel, SortedSet<Integer>> perModel = new IdentityHashMap<>();
    Map<VisionLanguageModel, Set<Capability>> rolesOf = new IdentityHashMap<>();
    for (Map.Entry<Capability, SortedSet<Integer>> e : layers.entrySet()) {
      VisionLanguageModel m = model(e.getKey());
      perModel.computeIfAbsent(m, k -> new TreeSet<>()).addAll(e.getValue());
      rolesOf.computeIfAbsent(m, k -> new LinkedHashSet<>()).add(e.getKey());
    }
    Map<Capability, LayerMaps> out = new EnumMap<>(Capability.class);
    for (Map.Entry<VisionLanguageModel, SortedSet<Integer>> e : perModel.entrySet()) {
      VisionLanguageModel m = e.getKey();
      if (e.getValue().isEmpty()) {
        continue;
      }
      // the teacher's logits are never used (method.md 1.1): the model may stop at the deepest
      // layer asked for
      ModelOutput output =
          m.forward(batch, ForwardRequest.attentionOf(e.getValue()).withoutLogits(), false);
      if (output.logits() != null) {
        output.logits().close();
      }
      LayerMaps maps = output.attention();
      for (Capability c : rolesOf.get(m)) {
        out.put(c, maps);
      }
    }
    return out;
  }

  private VisionLanguageModel model(Capability capability) {
    VisionLanguageModel m = roles.get(capability);
    if (m == null) {
      throw new IllegalArgumentException(
          "no teacher plays " + capability.key() + "; roles: " + roles.keySet());
    }
    return m;
  }

  @Override
  public void close() {
    if (ownsModels) {
      distinctModels().forEach(VisionLanguageModel::close);
    }
  }
}
