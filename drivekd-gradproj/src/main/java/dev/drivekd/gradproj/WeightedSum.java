package dev.drivekd.gradproj;

import java.util.List;

/** {@code sum_k w_k g_k}, None-aware: the update without projection ({@code --no-agp}). */
final class WeightedSum extends GradientProjection {

  @Override
  public String name() {
    return "none";
  }

  @Override
  boolean needsDotProducts() {
    return false;
  }

  @Override
  Outcome combine(TaskGradients g, GramMatrices gram) {
    Combination total = Combination.absent(gram);
    for (Combination c : weighted(g, gram)) {
      total = total.plus(c);
    }
    return new Outcome(total, List.of(), List.of(), List.of());
  }
}
