package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/**
 * InternViT ({@code vision_model}): {@code embeddings} then {@code encoder.layers.i}; the last
 * hidden state is the output (InternViT has no final norm).
 */
final class VisionEncoder extends SingleInputBlock {

  private final InternVlConfig.VisionConfig config;
  private final VisionEmbeddings embeddings;
  private final List<VisionLayer> layers = new ArrayList<>();

  VisionEncoder(InternVlConfig.VisionConfig config, double std) {
    this.config = config;
    this.embeddings = module("embeddings", new VisionEmbeddings(config, std));
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layers.add(module("encoder.layers." + i, new VisionLayer(config, std)));
    }
  }

  /** {@code [N, 3, S, S]} to the last hidden state {@code [N, P+1, C]}. */
  @Override
  NDArray apply(ParameterStore store, NDArray pixels, boolean training) {
    NDArray hidden = embeddings.apply(store, pixels, training);
    for (VisionLayer layer : layers) {
      NDArray next = layer.apply(store, hidden, training);
      hidden.close();
      hidden = next;
    }
    return hidden;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {
      new Shape(inputShapes[0].get(0), config.numPatches() + 1L, config.hiddenSize())
    };
  }
}
