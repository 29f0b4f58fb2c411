package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * The result of a combine: per parameter tensor, the combined gradient as a linear combination of
 * the K task gradients, formed on demand with one pass over that tensor's {@code [K, n]} buffer.
 * Nothing parameter-sized exists until {@link #addTo} or {@link #materialize} asks for one tensor,
 * so writing the update needs at most one extra tensor-sized buffer at a time.
 */
public final class CombinedGradient implements AutoCloseable {
  private final TaskGradients gradients;
  private final GramMatrices patterns;
  private final Combination total;
  private final ProjectionReport report;
  private final NDManager manager;
  private final NDArray[] rowVectors;

  CombinedGradient(
      TaskGradients gradients, GramMatrices patterns, Combination total, ProjectionReport report) {
    this.gradients = gradients;
    this.patterns = patterns;
    this.total = total;
    this.report = report;
    this.manager = gradients.getManager().newSubManager();
    this.rowVectors = new NDArray[patterns.patternCount()];
    for (int param = 0; param < gradients.parameterCount(); param++) {
      int pattern = patterns.patternOf(param);
      if (rowVectors[pattern] == null && total.present[pattern]) {
        rowVectors[pattern] = rowVector(total.coefficients[pattern], gradients.buffer(param));
      }
    }
  }

  /** Whether the combined gradient has a value for this parameter ({@code None} otherwise). */
  public boolean isPresent(int param) {
    return total.present[patterns.patternOf(param)];
  }

  /** The coefficients of the task gradients for this parameter (index = task). */
  public double[] coefficients(int param) {
    return total.coefficients[patterns.patternOf(param)].clone();
  }

  /**
   * The per-task loss multipliers whose one backward pass comes closest to this combined gradient
   * (exact where the combination is the same on every support pattern); see {@link
   * LossCoefficients}. Costs one host synchronisation if the combine had none (the plain sum).
   */
  public LossCoefficients lossCoefficients() {
    double[] weights = new double[gradients.taskCount()];
    for (int k = 0; k < weights.length; k++) {
      weights[k] = gradients.weight(k);
    }
    return LossCoefficients.fit(gradients.tasks(), weights, total, withDotProducts());
  }

  /**
   * Cosine between {@code sum_k raw[k] * g_k} over this combine's task gradients and the combined
   * gradient: how well one backward with these loss multipliers (for instance ones reused from an
   * earlier micro-step) would have stood in for this combine. NaN when either vector is zero.
   */
  public double cosineWith(double[] raw) {
    if (raw.length != gradients.taskCount()) {
      throw new IllegalArgumentException(
          raw.length + " coefficients for " + gradients.taskCount() + " tasks");
    }
    GramMatrices gram = withDotProducts();
    return LossCoefficients.cosine(Combination.ofRawCoefficients(gram, raw), total, gram);
  }

  /**
   * The patterns of this combine with their Gram matrices: the combine's own view (dense or not)
   * when it computed them, else the snapshot's (same pattern order, as both follow the presence).
   */
  private GramMatrices withDotProducts() {
    return patterns.hasGrams() ? patterns : gradients.gram();
  }

  /** What the combine did. */
  public ProjectionReport report() {
    return report;
  }

  /**
   * Adds the combined gradient of parameter {@code param} into {@code target} (same element count),
   * in place; does nothing where the combined gradient is absent. This is the write-back of
   * method.md 4.5: {@code grad = prev + total}.
   */
  public void addTo(int param, NDArray target) {
    if (!isPresent(param)) {
      return;
    }
    try (NDArray value = compute(param)) {
      try (NDArray shaped = value.reshape(target.getShape())) {
        target.addi(shaped);
      }
    }
  }

  /**
   * Adds the combined gradient into every parameter's target ({@code targets.get(i)} for parameter
   * i), spreading the tensors over the host workers. This is the whole write-back.
   */
  public void addAllTo(List<NDArray> targets) {
    if (targets.size() != gradients.parameterCount()) {
      throw new IllegalArgumentException(
          targets.size() + " targets for " + gradients.parameterCount() + " parameters");
    }
    List<int[]> groups = gradients.workerGroups();
    TensorWorkers.run(
        groups.size(),
        w -> {
          for (int param : groups.get(w)) {
            addTo(param, targets.get(param));
          }
        });
  }

  /**
   * The combined gradient of one parameter as a new array in {@code into}, shaped like the
   * parameter, or {@code null} where it is absent.
   */
  public NDArray materialize(int param, NDManager into) {
    if (!isPresent(param)) {
      return null;
    }
    try (NDArray value = compute(param)) {
      NDArray shaped = value.reshape(gradients.shape(param));
      shaped.attach(into);
      return shaped;
    }
  }

  private NDArray compute(int param) {
    NDArray row = rowVectors[patterns.patternOf(param)];
    return row.matMul(gradients.buffer(param)); // [1, K] x [K, n]: the one pass over the tensor
  }

  private NDArray rowVector(double[] c, NDArray buffer) {
    try (NDArray host = manager.create(c, new Shape(1, c.length))) {
      NDArray onDevice = host.toDevice(buffer.getDevice(), true);
      NDArray typed = onDevice.toType(buffer.getDataType(), false);
      if (typed != onDevice) {
        onDevice.close();
      }
      return typed;
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
