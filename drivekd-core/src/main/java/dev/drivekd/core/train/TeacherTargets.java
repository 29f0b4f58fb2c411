package dev.drivekd.core.train;

import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VlmBatch;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Where the teachers' attention targets come from: live frozen teachers (drivekd-teachers' {@code
 * TeacherPanel}) or a precomputed cache replayed from disk. The trainer asks once per sample for
 * exactly the layers its recipe needs from each capability's teacher.
 */
public interface TeacherTargets extends AutoCloseable {

  /** The capabilities that have a teacher. */
  java.util.Set<Capability> capabilities();

  /** The card of the teacher playing {@code capability} (depth, tokenizer, tokens per image). */
  ModelCard card(Capability capability);

  /**
   * The teachers' head-averaged maps for one sample.
   *
   * @param sampleIndex the sample's index in its dataset (the cache's key)
   * @param sample the sample
   * @param batch the student's encoded batch of that one sample ({@code B = 1}); live teachers run
   *     on it, and returned arrays join its manager
   * @param layers per capability, the resolved teacher layers needed
   * @return per requested capability, its teacher's maps (no gradient); a {@link LayerMaps} whose
   *     depth is the teacher's
   */
  Map<Capability, LayerMaps> targets(
      int sampleIndex,
      DrivingSample sample,
      VlmBatch batch,
      Map<Capability, SortedSet<Integer>> layers);

  /**
   * The fingerprint of the weights that play {@code capability} (a run's provenance records it, and
   * a resumed run compares it), or empty where this source cannot tell. Computed at most once per
   * distinct teacher.
   */
  default Optional<String> weightsFingerprint(Capability capability) {
    return Optional.empty();
  }

  /** Releases what the source holds (models, open files). */
  @Override
  default void close() {}
}
