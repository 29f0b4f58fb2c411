package dev.drivekd.core.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's weights as the name-to-array map a {@link Checkpoint} stores, keyed like {@code
 * PyTorchAdamW.exportState}: by the parameter names of {@code block.getParameters()}.
 */
public final class StudentWeights {

  private StudentWeights() {}

  /**
   * The parameters' own arrays by name (no copy: save before the next update changes them).
   *
   * @throws IllegalArgumentException when a parameter is not initialised or a name repeats
   */
  public static Map<String, NDArray> of(List<Pair<String, Parameter>> parameters) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : parameters) {
      if (!p.getValue().isInitialized()) {
        throw new IllegalArgumentException("parameter '" + p.getKey() + "' is not initialised");
      }
      if (out.put(p.getKey(), p.getValue().getArray()) != null) {
        throw new IllegalArgumentException("parameter name '" + p.getKey() + "' repeats");
      }
    }
    return out;
  }

  /**
   * Copies stored weights into the parameters' existing arrays (so optimizer state and gradient
   * attachment stay as they are). Every parameter must have a stored array of its shape and dtype,
   * and every stored array a parameter; nothing is copied unless all match.
   *
   * @param source where the weights came from, for messages (e.g. the checkpoint folder)
   * @throws IllegalArgumentException naming the source and each mismatching parameter
   */
  public static void copyInto(
      List<Pair<String, Parameter>> parameters, Map<String, NDArray> weights, String source) {
    List<String> problems = new ArrayList<>();
    Map<String, NDArray> unused = new LinkedHashMap<>(weights);
    for (Pair<String, Parameter> p : parameters) {
      NDArray stored = unused.remove(p.getKey());
      NDArray target = p.getValue().getArray();
      if (stored == null) {
        problems.add("'" + p.getKey() + "': no stored weights");
      } else if (!stored.getShape().equals(target.getShape())
          || stored.getDataType() != target.getDataType()) {
        problems.add(
            "'"
                + p.getKey()
                + "': stored "
                + stored.getDataType()
                + " "
                + stored.getShape()
                + ", model "
                + target.getDataType()
                + " "
                + target.getShape());
      }
    }
    for (String name : unused.keySet()) {
      problems.add("'" + name + "': stored, but the model has no such parameter");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          source + ": the stored weights do not fit the model: " + String.join("; ", problems));
    }
    for (Pair<String, Parameter> p : parameters) {
      p.getValue().getArray().set(weights.get(p.getKey()).toByteBuffer());
    }
  }
}
