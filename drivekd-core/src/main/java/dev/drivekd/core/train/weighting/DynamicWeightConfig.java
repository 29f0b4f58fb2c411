package dev.drivekd.core.train.weighting;

/**
 * Settings of the dynamic loss weights (method.md 0 and 3.1): the weights' own AdamW ({@code lr},
 * betas, eps, weight decay), the loss-ratio exponent {@code alpha}, the weight clamp and the floor
 * of the CE weight. {@link #defaults()} are the reference's.
 *
 * @param learningRate {@code --dynamic-weight-lr} (3e-4)
 * @param alpha {@code --reweight-alpha} (0)
 * @param minWeight {@code --dynamic-weight-min} (1e-6)
 * @param maxWeight {@code --dynamic-weight-max} (1e6)
 * @param minCeWeight {@code --min-dynamic-weight-ce} (0.6)
 * @param eps added to {@code softplus(a)} (1e-8)
 * @param beta1 AdamW beta1 (0.9)
 * @param beta2 AdamW beta2 (0.99, not PyTorch's 0.999)
 * @param adamEps AdamW eps (1e-8)
 * @param weightDecay AdamW weight decay (0)
 */
public record DynamicWeightConfig(
    double learningRate,
    double alpha,
    double minWeight,
    double maxWeight,
    double minCeWeight,
    double eps,
    double beta1,
    double beta2,
    double adamEps,
    double weightDecay) {

  /** Validates the ranges. */
  public DynamicWeightConfig {
    requireFinite("learningRate", learningRate);
    requireFinite("alpha", alpha);
    requireFinite("minWeight", minWeight);
    requireFinite("maxWeight", maxWeight);
    requireFinite("minCeWeight", minCeWeight);
    requireFinite("eps", eps);
    requireFinite("adamEps", adamEps);
    requireFinite("weightDecay", weightDecay);
    if (learningRate < 0) {
      throw new IllegalArgumentException("learningRate must be >= 0, got " + learningRate);
    }
    if (minWeight <= 0 || minWeight > maxWeight) {
      throw new IllegalArgumentException(
          "need 0 < minWeight <= maxWeight, got " + minWeight + " and " + maxWeight);
    }
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + " and " + beta2);
    }
    if (adamEps < 0 || eps < 0 || weightDecay < 0) {
      throw new IllegalArgumentException("eps, adamEps and weightDecay must be >= 0");
    }
  }

  /** The reference defaults (trainer.py L646-674, L451-456). */
  public static DynamicWeightConfig defaults() {
    return new DynamicWeightConfig(3e-4, 0.0, 1e-6, 1e6, 0.6, 1e-8, 0.9, 0.99, 1e-8, 0.0);
  }

  /** A copy with another weight learning rate. */
  public DynamicWeightConfig withLearningRate(double value) {
    return new DynamicWeightConfig(
        value, alpha, minWeight, maxWeight, minCeWeight, eps, beta1, beta2, adamEps, weightDecay);
  }

  /** A copy with another loss-ratio exponent. */
  public DynamicWeightConfig withAlpha(double value) {
    return new DynamicWeightConfig(
        learningRate,
        value,
        minWeight,
        maxWeight,
        minCeWeight,
        eps,
        beta1,
        beta2,
        adamEps,
        weightDecay);
  }

  /** A copy with another weight clamp. */
  public DynamicWeightConfig withWeightRange(double min, double max) {
    return new DynamicWeightConfig(
        learningRate, alpha, min, max, minCeWeight, eps, beta1, beta2, adamEps, weightDecay);
  }

  /** A copy with another CE floor. */
  public DynamicWeightConfig withMinCeWeight(double value) {
    return new DynamicWeightConfig(
        learningRate, alpha, minWeight, maxWeight, value, eps, beta1, beta2, adamEps, weightDecay);
  }

  private static void requireFinite(String name, double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(name + " must be finite, got " + value);
    }
  }
}
