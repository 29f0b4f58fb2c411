package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** A block of one input and one output: its DJL {@code forward} is {@link #apply}. */
abstract class SingleInputBlock extends InternVlBlock {

  /** The block's computation on {@code x}. */
  abstract NDArray apply(ParameterStore store, NDArray x, boolean training);

  @Override
  protected final NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(apply(store, inputs.singletonOrThrow(), training));
  }
}
