package dev.drivekd.core.train.weighting;

import java.util.List;
import java.util.Map;

/**
 * The per-task loss weights {@code w_k} of Drive-KD (method.md 2.4 and 3): fixed static weights, or
 * the reference's dynamic GradNorm-like balancer. A training loop reads {@link #currentWeights()}
 * for every micro-step of a window, reports each micro-step's raw losses and gradient norms with
 * {@link #accumulate}, and calls {@link #update()} once per optimizer step, right after the
 * optimizer and scheduler steps. Weights are float32 values, as the reference holds them.
 *
 * <p>The active keys are {@code ce} and every capability key with a non-zero static weight, in the
 * order ce, p, r, d ({@link TaskKeys}).
 */
public interface LossWeighting {

  /** Fixed weights: {@code w_k = float32(static_k)}; statistics and updates are no-ops. */
  static LossWeighting staticWeights(Map<String, ? extends Number> staticWeights) {
    return new StaticLossWeighting(TaskKeys.normaliseStatic(staticWeights));
  }

  /** Dynamic weights with the reference defaults ({@link DynamicWeightConfig#defaults()}). */
  static LossWeighting dynamic(Map<String, ? extends Number> staticWeights) {
    return dynamic(staticWeights, DynamicWeightConfig.defaults());
  }

  /**
   * Dynamic weights initialised from the static ones (method.md 3). As in the reference, fewer than
   * two active keys leaves nothing to balance and gives static weights.
   */
  static LossWeighting dynamic(
      Map<String, ? extends Number> staticWeights, DynamicWeightConfig config) {
    Map<String, Double> statics = TaskKeys.normaliseStatic(staticWeights);
    if (TaskKeys.activeKeys(statics).size() < 2) {
      return new StaticLossWeighting(statics);
    }
    return new DynamicLossWeighting(statics, config);
  }

  /** Restores a weighting from checkpoint state. */
  static LossWeighting fromState(LossWeightingState state) {
    if (state.version() != LossWeightingState.VERSION) {
      throw new IllegalArgumentException(
          "Unsupported loss-weighting state version "
              + state.version()
              + " (this build reads version "
              + LossWeightingState.VERSION
              + ")");
    }
    Map<String, Double> statics = TaskKeys.normaliseStatic(state.staticWeights());
    if (!state.dynamic()) {
      return new StaticLossWeighting(statics);
    }
    if (state.config() == null) {
      throw new IllegalArgumentException("dynamic loss-weighting state without a config");
    }
    DynamicLossWeighting weighting = new DynamicLossWeighting(statics, state.config());
    weighting.restore(state);
    return weighting;
  }

  /** Whether the weights change during training. */
  boolean isDynamic();

  /** The active task keys: ce first, then p, r, d where their static weight is non-zero. */
  List<String> activeKeys();

  /** The static weight of every task key, in reference order. */
  Map<String, Double> staticWeights();

  /**
   * The current weight of every active key (the reference's {@code current_loss_weights()}). They
   * stay constant within an accumulation window.
   */
  Map<String, Float> currentWeights();

  /** The current weight of an active key. */
  default float weight(String key) {
    Float w = currentWeights().get(key);
    if (w == null) {
      throw new IllegalArgumentException(
          "'" + key + "' is not an active task key; active keys are " + activeKeys());
    }
    return w;
  }

  /**
   * Adds one micro-step's statistics to the window: the raw (unscaled, unweighted) loss and the
   * norm of the gradient of the scaled, unweighted loss, per task key. Keys missing from either map
   * are skipped, but the micro-step still counts (method.md 3.2).
   */
  void accumulate(Map<String, ? extends Number> losses, Map<String, ? extends Number> norms);

  /**
   * Closes the window: takes the means, resets the window and, for dynamic weights, takes one
   * balancing step (method.md 3.3). Call it once per optimizer step, after the optimizer and the
   * learning-rate scheduler have stepped.
   */
  WeightUpdate update();

  /** The state to store in a checkpoint. */
  LossWeightingState exportState();

  /**
   * Continues from checkpoint state exported by a weighting of the same kind.
   *
   * @throws IllegalArgumentException when the state is of the other kind (static against dynamic)
   *     or names keys this weighting does not have
   */
  void restore(LossWeightingState state);
}
