package dev.drivekd.core.model;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * A vision-language model as distillation sees it: a forward pass that returns logits and the
 * attention maps of exactly the layers asked for. Students are trainable, teachers frozen; both
 * roads (the native family, a TorchScript import) implement this one contract.
 *
 * <p>Gradients: a trainable model's parameters have gradients attached, and the returned logits and
 * maps stay in the autograd graph when {@code training} is true and the caller has opened a {@code
 * GradientCollector}. A frozen model computes without gradients.
 *
 * <p>Memory: outputs join the batch's manager (close it, or use a per-step sub-manager); the
 * parameters live in the model's own manager until {@link #close()}.
 */
public interface VisionLanguageModel extends AutoCloseable {

  /** Sizes, tokenizer identity and tokens per image. */
  ModelCard card();

  /** The device the parameters live on; batches must be created there. */
  Device device();

  /**
   * Runs the model on a batch.
   *
   * @param batch token ids, images and layout, on {@link #device()}
   * @param request the layers whose attention maps to return
   * @param training dropout and stochastic depth on; gradients recorded for trainable parameters
   * @return logits, the requested maps and the batch's layout
   * @throws dev.drivekd.core.attention.LayerIndexException when a requested layer is out of range
   */
  ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training);

  /** The parameters that receive gradients, in a fixed order (empty when frozen). */
  List<Parameter> trainableParameters();

  /**
   * The trainable parameters with names that are stable across runs (checkpoints and optimizer
   * state are keyed by them), in the order of {@link #trainableParameters()}. The default names
   * them by position; models with named parameters override it.
   */
  default List<Pair<String, Parameter>> namedTrainableParameters() {
    List<Parameter> parameters = trainableParameters();
    List<Pair<String, Parameter>> named = new ArrayList<>(parameters.size());
    for (int i = 0; i < parameters.size(); i++) {
      named.add(new Pair<>("parameter." + i, parameters.get(i)));
    }
    return named;
  }

  /** Freezes ({@code true}) or unfreezes every parameter. */
  void freeze(boolean frozen);

  /**
   * Freezes ({@code true}) or unfreezes the vision encoder and the projector only, leaving the
   * language model as it is (a training option of the paper's ablations).
   *
   * @throws UnsupportedOperationException when the model cannot tell its vision parameters apart
   */
  default void freezeVision(boolean frozen) {
    throw new UnsupportedOperationException(
        card().name() + " cannot freeze its vision encoder and projector separately");
  }

  /** Releases the parameters' native memory. */
  @Override
  void close();
}
