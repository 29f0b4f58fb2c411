package dev.drivekd.teachers.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.attention.TokenLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A teacher's attention maps for a batch, rebuilt from cached targets: layer {@code l} is the
 * {@code [B, L, L]} float32 map with each sample's cached target of ({@code teacher}, {@code
 * signal}, {@code l}) placed at its positions and zeros elsewhere ({@link TextVisionBlock#place}).
 * It plugs into the losses where a live teacher's {@link LayerMaps} would; the text-to-vision and
 * full-map losses give the same values as with the live maps. Maps are created on request in the
 * given manager and belong to the caller.
 */
public final class CachedTeacherMaps {

  private CachedTeacherMaps() {}

  /**
   * The maps of {@code teacher}'s {@code signal} for a batch.
   *
   * @param batch the cached samples, in batch order (one per sample of {@code layout})
   * @param teacher the teacher (its depth is the source's depth)
   * @param signal the signal key the targets are stored under
   * @param layout the batch's layout
   * @param manager where maps are created
   */
  public static LayerMaps of(
      List<CachedSample> batch,
      TeacherIdentity teacher,
      String signal,
      TokenLayout layout,
      NDManager manager) {
    if (batch.size() != layout.batchSize()) {
      throw new IllegalArgumentException(
          batch.size() + " cached samples for a batch of " + layout.batchSize());
    }
    List<CachedSample> samples = List.copyOf(batch);
    return LayerMaps.of(
        teacher.depth(),
        layer -> {
          TargetKey key = new TargetKey(teacher.name(), signal, layer);
          List<CachedTarget> targets = new ArrayList<>(samples.size());
          for (CachedSample s : samples) {
            targets.add(s.target(key));
          }
          NDArray maps = TextVisionBlock.place(targets, layout, manager);
          return maps;
        });
  }
}
