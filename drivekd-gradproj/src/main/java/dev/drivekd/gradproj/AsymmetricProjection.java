package dev.drivekd.gradproj;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * Drive-KD's AGP (method.md 4.4). Stage 1: each follower {@code f_k} conflicting with the anchor
 * (dot {@code < 0}) loses the anchor's component on its support; the merged vector is {@code m_k =
 * anchor + f'_k}. Stage 2: in one shuffled order shared by all targets, each {@code t_i} (from
 * {@code m_i}) is projected against every original {@code m_j}, {@code j != i}. The update is
 * {@code sum_i t_i}, which holds one anchor copy per follower (the reference's behaviour).
 */
final class AsymmetricProjection extends GradientProjection {
  private final boolean stage1;
  private final boolean stage2;

  AsymmetricProjection(boolean stage1, boolean stage2) {
    this.stage1 = stage1;
    this.stage2 = stage2;
  }

  @Override
  public String name() {
    if (stage1 && stage2) {
      return "agp";
    }
    return stage1 ? "agp-stage1-only" : "agp-stage2-only";
  }

  @Override
  boolean needsDotProducts() {
    return true;
  }

  @Override
  Outcome combine(TaskGradients g, GramMatrices gram) {
    List<Combination> w = weighted(g, gram);
    Combination anchor = w.get(0);
    String anchorName = g.tasks().get(0);
    List<String> followers = g.followers();
    if (followers.isEmpty()) {
      return new Outcome(anchor, List.of(), List.of(), List.of());
    }
    List<ProjectionStep> log1 = new ArrayList<>();
    List<Combination> merged = new ArrayList<>();
    for (int i = 0; i < followers.size(); i++) {
      Combination f = w.get(i + 1);
      if (stage1) {
        f = project(f, anchor, gram, followers.get(i), anchorName, log1);
      }
      merged.add(anchor.plus(f));
    }
    List<ProjectionStep> log2 = new ArrayList<>();
    List<String> order = List.of();
    List<Combination> results = merged;
    if (stage2) {
      order = stage2Order(g, followers);
      results = new ArrayList<>(merged);
      for (String target : order) {
        int ti = followers.indexOf(target);
        Combination t = merged.get(ti);
        for (String against : order) {
          if (!against.equals(target)) {
            t = project(t, merged.get(followers.indexOf(against)), gram, target, against, log2);
          }
        }
        results.set(ti, t);
      }
    }
    Combination total = Combination.absent(gram);
    for (Combination r : results) {
      total = total.plus(r);
    }
    if (averageCapabilities) {
      total = total.times(1.0 / followers.size());
    }
    return new Outcome(total, order, log1, log2);
  }

  private List<String> stage2Order(TaskGradients g, List<String> followers) {
    List<String> fixed = g.stage2Order();
    if (fixed == null) {
      return random.shuffled(followers);
    }
    if (fixed.size() != followers.size()
        || !new HashSet<>(fixed).equals(new HashSet<>(followers))) {
      throw new IllegalArgumentException(
          "Stage-2 order " + fixed + " is not a permutation of the followers " + followers);
    }
    return fixed;
  }
}
