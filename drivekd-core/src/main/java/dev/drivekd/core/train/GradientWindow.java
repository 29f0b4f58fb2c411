package dev.drivekd.core.train;

import ai.djl.ndarray.NDArray;
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

  private final List<Parameter> parameters;
  private final List<NDArray> sums;
  private final boolean[] reached;
  private int contributions;

  /** Zero buffers shaped like {@code parameters}, in {@code manager}. */
  GradientWindow(NDManager manager, List<Parameter> parameters) {
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
