package dev.drivekd.core.train.optimizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping by global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}: {@code N =
 * sqrt(Σ_p ‖g_p‖²)}, then every gradient is scaled by {@code min(1, maxNorm / (N + 1e-6))}. The
 * Drive-KD reference does not clip (method.md 4.5), so a parity run leaves it off; it is offered
 * for stability. Unlike PyTorch (which would multiply by NaN), a non-finite norm leaves every
 * gradient untouched and is reported, so that the caller can skip the step.
 */
public final class GradientClipping {

  private GradientClipping() {}

  /**
   * The outcome of one clip.
   *
   * @param totalNorm the global norm before clipping (NaN or infinite when not finite)
   * @param coefficient the factor the gradients were multiplied by (1 when not clipped)
   * @param clipped whether the gradients were scaled
   * @param finite whether the norm was finite; when false nothing was changed
   */
  public record Result(double totalNorm, double coefficient, boolean clipped, boolean finite) {}

  /**
   * The global L2 norm of the gradients of the parameters that require one, each tensor reduced in
   * float32 and the tensors summed in double (one host synchronisation).
   */
  public static double globalNorm(List<Parameter> parameters) {
    List<NDArray> grads = gradients(parameters);
    try {
      return norm(grads);
    } finally {
      grads.forEach(NDArray::close);
    }
  }

  /**
   * Scales the gradients so that their global L2 norm is at most {@code maxNorm}; see the class
   * comment. Parameters that do not require a gradient are ignored.
   */
  public static Result clipByGlobalNorm(List<Parameter> parameters, double maxNorm) {
    if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException("max norm must be finite and > 0, got " + maxNorm);
    }
    List<NDArray> grads = gradients(parameters);
    try {
      double total = norm(grads);
      if (!Double.isFinite(total)) {
        return new Result(total, 1.0, false, false);
      }
      // PyTorch computes the coefficient in float32 from the float32 norm.
      float coef = (float) maxNorm / ((float) total + 1e-6f);
      if (coef >= 1f) {
        return new Result(total, 1.0, false, true);
      }
      for (NDArray g : grads) {
        g.muli(coef);
      }
      return new Result(total, coef, true, true);
    } finally {
      grads.forEach(NDArray::close);
    }
  }

  private static List<NDArray> gradients(List<Parameter> parameters) {
    List<NDArray> grads = new ArrayList<>();
    for (Parameter p : parameters) {
      if (p.requiresGradient() && p.isInitialized() && p.getArray().hasGradient()) {
        grads.add(p.getArray().getGradient());
      }
    }
    return grads;
  }

  private static double norm(List<NDArray> grads) {
    if (grads.isEmpty()) {
      return 0.0;
    }
    NDList squares = new NDList(grads.size());
    try {
      for (NDArray g : grads) {
        try (NDArray f = g.toType(DataType.FLOAT32, true);
            NDArray square = f.square();
            NDArray sum = square.sum()) {
          squares.add(sum.reshape(1));
        }
      }
      double total = 0;
      try (NDArray stacked = NDArrays.concat(squares)) {
        for (float s : stacked.toFloatArray()) {
          total += s;
        }
      }
      return Math.sqrt(total);
    } finally {
      squares.close();
    }
  }
}
