package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Base of the native InternVL blocks: parameters are declared with their final shapes and their
 * Hugging Face names (relative to the block), children with their Hugging Face module names, so the
 * model can list every parameter under its checkpoint name. Parameter values are read through the
 * {@link ParameterStore}; every result of an operation is created on the activations, never on a
 * parameter, so it joins the batch's manager.
 */
abstract class InternVlBlock extends AbstractBlock {

  private final Map<String, Parameter> named = new LinkedHashMap<>();
  private final Map<String, ParameterInit> inits = new LinkedHashMap<>();
  private final Map<String, InternVlBlock> modules = new LinkedHashMap<>();

  /** Declares a parameter {@code name} of {@code shape}. */
  protected final Parameter parameter(String name, Shape shape, ParameterInit init) {
    Parameter parameter =
        addParameter(
            Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optShape(shape)
                .optRequiresGrad(true)
                .build());
    named.put(name, parameter);
    inits.put(name, init);
    return parameter;
  }

  /** Declares a child module {@code name} (Hugging Face's module name, possibly dotted). */
  protected final <B extends InternVlBlock> B module(String name, B block) {
    addChildBlock(name, block);
    modules.put(name, block);
    return block;
  }

  /** Adds every parameter of this block and its children to {@code out}, with full names. */
  final void collect(String prefix, Map<String, Parameter> out, Map<String, ParameterInit> init) {
    for (Map.Entry<String, Parameter> entry : named.entrySet()) {
      out.put(prefix + entry.getKey(), entry.getValue());
      init.put(prefix + entry.getKey(), inits.get(entry.getKey()));
    }
    for (Map.Entry<String, InternVlBlock> entry : modules.entrySet()) {
      entry.getValue().collect(prefix + entry.getKey() + ".", out, init);
    }
  }

  /** The current value of {@code parameter} on the device of {@code like}. */
  protected static NDArray value(
      ParameterStore store, Parameter parameter, NDArray like, boolean training) {
    return store.getValue(parameter, like.getDevice(), training);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    for (InternVlBlock child : modules.values()) {
      child.initialize(manager, dataType, inputShapes);
    }
  }

  /**
   * The DJL-block inputs of an attention-bearing block, {@code [x, cos, sin(, mask)]}, with {@code
   * "keepProbabilities" -> true} in {@code params} when the caller wants the probabilities.
   */
  record BlockInputs(NDArray x, RotaryEmbedding.Tables rope, NDArray mask, boolean keep) {

    static BlockInputs of(NDList inputs, PairList<String, Object> params) {
      return new BlockInputs(
          inputs.get(0),
          new RotaryEmbedding.Tables(inputs.get(1), inputs.get(2)),
          inputs.size() > 3 ? inputs.get(3) : null,
          params != null && Boolean.TRUE.equals(params.get("keepProbabilities")));
    }
  }

  /** {@code [output, probabilities]} as a DJL block returns it (without probabilities if null). */
  static NDList blockOutputs(NDArray[] result) {
    return result[1] == null ? new NDList(result[0]) : new NDList(result[0], result[1]);
  }

  /**
   * Hands arrays that were unregistered from a closed inner {@link NDScope} to the enclosing one,
   * so that a caller's scope still owns them.
   */
  static void escape(NDArray... arrays) {
    for (NDArray array : arrays) {
      if (array != null) {
        NDScope.register(array);
      }
    }
  }

  /** Unregisters arrays from the innermost scope before it closes. */
  static void keep(NDArray... arrays) {
    for (NDArray array : arrays) {
      if (array != null) {
        NDScope.unregister(array);
      }
    }
  }
}
