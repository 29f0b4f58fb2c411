package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;

/** The token embedding table {@code weight [V, D]}; a lookup gives dense gradients. */
final class TokenEmbedding extends SingleInputBlock {

  private final long vocabulary;
  private final long hidden;
  private final Parameter weight;

  TokenEmbedding(long vocabulary, long hidden, double std) {
    this.vocabulary = vocabulary;
    this.hidden = hidden;
    this.weight = parameter("weight", new Shape(vocabulary, hidden), ParameterInit.normal(std));
  }

  /** {@code [B, L]} int64 ids to {@code [B, L, D]}. */
  @Override
  NDArray apply(ParameterStore store, NDArray ids, boolean training) {
    return Embedding.embedding(ids, value(store, weight, ids, training), SparseFormat.DENSE)
        .singletonOrThrow();
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0].add(hidden)};
  }

  long vocabulary() {
    return vocabulary;
  }
}
