package dev.drivekd.teachers.cache;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.train.DistillationRecipe;
import java.util.SortedSet;

/**
 * What a {@link DistillationRecipe} needs cached from one capability's teacher: one entry per
 * resolved teacher layer of the capability's signal, under the loss's task key, of the kind its
 * loss reads ({@link TargetKind#forLoss}). The precomputer writes these entries and {@link
 * CachedTeacherTargets} expects them, so both sides agree by construction.
 */
final class RecipeEntries {

  private RecipeEntries() {}

  /** The teacher layers {@code capability}'s loss needs (empty when the recipe has no loss). */
  static SortedSet<Integer> layers(
      DistillationRecipe recipe, Capability capability, int studentDepth, int teacherDepth) {
    return recipe.teacherLayers(capability, studentDepth, teacherDepth);
  }

  /** The kind of target {@code capability}'s loss reads. */
  static TargetKind kind(DistillationRecipe recipe, Capability capability) {
    return TargetKind.forLoss(loss(recipe, capability).loss());
  }

  /** The signal key the entries of {@code capability} are stored under (its task key). */
  static String signal(DistillationRecipe recipe, Capability capability) {
    return loss(recipe, capability).key();
  }

  /** Adds {@code capability}'s entries for {@code teacher} to {@code builder}. */
  static void add(
      CacheRecipe.Builder builder,
      String teacher,
      DistillationRecipe recipe,
      Capability capability,
      int studentDepth,
      int teacherDepth) {
    builder.addLayers(
        teacher,
        signal(recipe, capability),
        layers(recipe, capability, studentDepth, teacherDepth),
        kind(recipe, capability));
  }

  private static CapabilitySignalLoss loss(DistillationRecipe recipe, Capability capability) {
    CapabilitySignalLoss loss = recipe.loss(capability);
    if (loss == null) {
      throw new IllegalArgumentException("the recipe has no " + capability.key() + " loss");
    }
    return loss;
  }
}
