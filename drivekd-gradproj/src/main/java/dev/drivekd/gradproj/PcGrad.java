package dev.drivekd.gradproj;

import java.util.ArrayList;
import java.util.List;

/**
 * PCGrad (Yu et al. 2020): each task vector {@code g_i}, visiting the other tasks in a fresh random
 * order, is projected against each original {@code g_j} it conflicts with; the update is the sum.
 * All K tasks take part, the anchor included.
 */
final class PcGrad extends GradientProjection {

  @Override
  public String name() {
    return "pcgrad";
  }

  @Override
  boolean needsDotProducts() {
    return true;
  }

  @Override
  Outcome combine(TaskGradients g, GramMatrices gram) {
    List<Combination> w = weighted(g, gram);
    List<String> names = g.tasks();
    List<ProjectionStep> log = new ArrayList<>();
    Combination total = Combination.absent(gram);
    for (int i = 0; i < names.size(); i++) {
      List<Integer> others = new ArrayList<>();
      for (int j = 0; j < names.size(); j++) {
        if (j != i) {
          others.add(j);
        }
      }
      Combination t = w.get(i);
      for (int j : random.shuffled(others)) {
        t = project(t, w.get(j), gram, names.get(i), names.get(j), log);
      }
      total = total.plus(t);
    }
    return new Outcome(total, List.of(), List.of(), log);
  }
}
