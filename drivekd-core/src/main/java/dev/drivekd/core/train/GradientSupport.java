package dev.drivekd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.drivekd.gradproj.TaskGradients;

/**
 * Marks a task absent on the parameters its loss does not reach (PyTorch's {@code grad is None},
 * method.md 4.1). DJL cannot leave a gradient undefined, so drivekd takes a task's gradient of a
 * tensor that is exactly zero as "not reached" (method.md 4.6), in one host read for all tasks and
 * tensors.
 */
final class GradientSupport {

  private GradientSupport() {}

  /** Marks every all-zero row of {@code g} absent. */
  static void markUnreached(TaskGradients g, NDManager scratch) {
    int params = g.parameterCount();
    int tasks = g.taskCount();
    float[] maxima;
    try (NDManager local = scratch.newSubManager()) {
      NDList perTensor = new NDList(params);
      for (int p = 0; p < params; p++) {
        try (NDArray magnitude = g.buffer(p).abs()) {
          NDArray m = magnitude.max(new int[] {1});
          m.attach(local);
          perTensor.add(m);
        }
      }
      maxima = NDArrays.stack(perTensor).toFloatArray(); // [P, K], the one host read
    }
    for (int p = 0; p < params; p++) {
      for (int k = 0; k < tasks; k++) {
        if (maxima[p * tasks + k] == 0f) {
          g.markAbsent(k, p); // the row is exactly zero already
        }
      }
    }
  }
}
