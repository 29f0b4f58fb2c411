package dev.drivekd.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.drivekd.gradproj.GradientWriter;
import java.util.List;

/**
 * Gradient housekeeping on the engine's fast path. A training step zeroes every parameter's
 * gradient once per task backward; through DJL's indexing API that is a gradient wrapper, a scope
 * and an index-put per parameter (about 20 microseconds each on the tiny models, more than the
 * arithmetic), through libtorch's own {@code grad.zero_()} it is one native call.
 */
public final class ParameterGradients {

  private ParameterGradients() {}

  /** Zeroes the gradients of {@code parameters} in place, NaN included. */
  public static void zero(List<Parameter> parameters) {
    for (Parameter p : parameters) {
      NDArray array = p.getArray();
      if (array instanceof PtNDArray pt) {
        JniUtils.zeroGrad(pt);
      } else {
        GradientWriter.zero(List.of(p));
      }
    }
  }
}
