package dev.drivekd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.gradproj.CombinedGradient;
import dev.drivekd.gradproj.GradientWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradient of one accumulation window: per parameter, the sum of the combined gradients of the
 * window's micro-steps (method.md 4.5, {@code grad = prev + total}), and whether any of them
 * reached the parameter.
 *
 * <p>The window lives in its own buffers, never in the parameters' gradients: those are the
 * backward passes' scratch (zeroed before each task's backward), and in DJL a {@code getGradient()}
 * handle taken before a parameter's first backward is a detached zero array, not the tensor
 * backward later writes, so a sum kept there could be lost. The optimizer reads the window
 * directly. A parameter that no micro-step reached gets no update at all, as {@code
 * torch.optim.AdamW} skips a parameter whose {@code grad} is {@code None}: no moment decay, no
 * weight decay, no step count.
 */
final class GradientWindow {

  private final NDManager manager;
  private final List<Parameter> parameters;
  private final List<NDArray> sums;
  private final boolean[] reached;
  private int contributions;

  /** Zero buffers shaped like {@code parameters}, in {@code manager}. */
  GradientWindow(NDManager manager, List<Parameter> parameters) {
    this.manager = manager;
    this.parameters = List.copyOf(parameters);
    this.sums = new ArrayList<>(parameters.size());
    for (Parameter p : parameters) {
      NDArray weight = p.getArray();
      DataType type = weight.getDataType();
      sums.add(manager.zeros(weight.getShape(), type));
    }
    this.reached = new boolean[parameters.size()];
  }

  /** Adds one micro-step's combined gradient, noting the parameters it has a value for. */
  void add(CombinedGradient combined) {
    combined.addAllTo(sums);
    for (int i = 0; i < reached.length; i++) {
      reached[i] |= combined.isPresent(i);
    }
    contributions++;
  }

  /**
   * Adds the parameters' own gradients, as one backward pass left them, where {@code reached} is
   * set: the micro-step of an amortised projection. Nothing is added when one of them holds NaN or
   * infinity (checked in one host read of each tensor's largest magnitude), so a bad gradient never
   * reaches the window.
   *
   * @return whether the gradients were added
   */
  boolean addIfFinite(List<Parameter> gradientsOf, boolean[] reachedBy) {
    try (NDManager scratch = manager.newSubManager()) {
      List<NDArray> grads = new ArrayList<>();
      NDList largest = new NDList();
      for (int i = 0; i < reachedBy.length; i++) {
        if (!reachedBy[i]) {
          grads.add(null);
          continue;
        }
        NDArray grad = gradientsOf.get(i).getArray().getGradient();
        grad.attach(scratch);
        grads.add(grad);
        NDArray magnitude = grad.abs();
        magnitude.attach(scratch);
        NDArray max = magnitude.max();
        max.attach(scratch);
        largest.add(max);
      }
      if (!largest.isEmpty()) {
        NDArray stacked = NDArrays.stack(largest);
        stacked.attach(scratch);
        for (float v : stacked.toType(DataType.FLOAT32, false).toFloatArray()) {
          if (!Float.isFinite(v)) {
            return false;
          }
        }
      }
      for (int i = 0; i < grads.size(); i++) {
        if (grads.get(i) != null) {
          sums.get(i).addi(grads.get(i));
          reached[i] = true;
        }
      }
      contributions++;
      return true;
    }
  }

  /** Micro-steps whose gradient entered the window (skipped ones do not). */
  int contributions() {
    return contributions;
  }

  /** Whether some micro-step of the window reached parameter {@code param}. */
  boolean reached(int param) {
    return reached[param];
  }

  /** The window's gradient of parameter {@code param} so far. */
  NDArray gradient(int param) {
    return sums.get(param);
  }

  /**
   * Updates every reached parameter with its window gradient at {@code learningRate}, then empties
   * the window.
   *
   * @return the number of parameters updated
   */
  int applyAndClear(PyTorchAdamW optimizer, double learningRate) {
    int updated = 0;
    for (int i = 0; i < parameters.size(); i++) {
      if (reached[i]) {
        Parameter p = parameters.get(i);
        optimizer.update(p.getId(), p.getArray(), sums.get(i), learningRate);
        updated++;
      }
    }
    clear();
    return updated;
  }

  /** Empties the window without an update. */
  void clear() {
    for (int i = 0; i < reached.length; i++) {
      if (reached[i]) {
        GradientWriter.fill(sums.get(i), 0);
        reached[i] = false;
      }
    }
    contributions = 0;
  }
}
