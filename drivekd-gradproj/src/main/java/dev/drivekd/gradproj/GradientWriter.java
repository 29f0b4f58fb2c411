package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Moves gradients between DJL {@link Parameter}s and drivekd: snapshots a task's gradients into
 * {@link TaskGradients}, and adds a {@link CombinedGradient} into the parameters' gradients so that
 * a DJL {@code Optimizer} or {@code Trainer.step()} applies it (djl-notes.md section 2). Every
 * {@code getGradient()} wrapper is closed here, so nothing accumulates in the model's manager.
 */
public final class GradientWriter {
  private static final NDIndex ALL = new NDIndex("...");

  private GradientWriter() {}

  /**
   * Copies the current gradients of {@code parameters} into task {@code task}'s rows. {@code
   * reached[i] == false} marks parameter i absent for this task (the loss does not reach it).
   */
  public static void snapshot(
      TaskGradients into, String task, List<Parameter> parameters, boolean[] reached) {
    requireSize(into, parameters);
    if (reached.length != parameters.size()) {
      throw new IllegalArgumentException(
          "reached has " + reached.length + " entries for " + parameters.size() + " parameters");
    }
    int k = into.taskIndex(task);
    for (int i = 0; i < parameters.size(); i++) {
      if (!reached[i]) {
        into.snapshot(k, i, null);
        continue;
      }
      try (NDArray grad = parameters.get(i).getArray().getGradient()) {
        into.snapshot(k, i, grad);
      }
    }
  }

  /**
   * {@code grad += combined} for every parameter where the combined gradient is present. Call it
   * after the tasks' backward passes, as the snapshots are: in DJL's PyTorch engine a {@code
   * getGradient()} handle on a parameter that has never had a backward pass is a detached zero
   * array, so an addition into it would be lost. A parameter where the combined gradient is present
   * was reached by some task's backward (its snapshot row is not all zero), so its gradient exists
   * by then.
   */
  public static void addInto(List<Parameter> parameters, CombinedGradient combined) {
    List<NDArray> grads = new ArrayList<>();
    try {
      for (Parameter p : parameters) {
        grads.add(p.getArray().getGradient());
      }
      combined.addAllTo(grads);
    } finally {
      grads.forEach(NDArray::close);
    }
  }

  /** Zeroes the gradients of {@code parameters} in place. */
  public static void zero(List<Parameter> parameters) {
    for (Parameter p : parameters) {
      try (NDArray grad = p.getArray().getGradient()) {
        fill(grad, 0);
      }
    }
  }

  /**
   * Fills {@code target} with {@code value} in place. A fill, not {@code x - x}, which would keep
   * NaN; the scalar the engine creates for the fill joins the target's manager, so it is scoped
   * here instead of piling up in the model's manager.
   */
  public static void fill(NDArray target, float value) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      target.set(ALL, value);
    }
  }

  private static void requireSize(TaskGradients g, List<Parameter> parameters) {
    if (g.parameterCount() != parameters.size()) {
      throw new IllegalArgumentException(
          parameters.size() + " parameters for TaskGradients of " + g.parameterCount());
    }
  }
}
