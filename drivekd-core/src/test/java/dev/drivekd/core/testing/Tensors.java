package dev.drivekd.core.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test helpers: NDArrays from nested JSON lists, random tensors, tolerance checks. */
public final class Tensors {

  private Tensors() {}

  /** A float64 NDArray from a nested JSON list of the given shape. */
  public static NDArray fromJson(NDManager manager, JsonNode nested, Shape shape) {
    List<Double> values = new ArrayList<>();
    flatten(nested, values);
    if (values.size() != shape.size()) {
      throw new IllegalArgumentException(
          "JSON array has " + values.size() + " values, expected shape " + shape);
    }
    double[] data = new double[values.size()];
    for (int i = 0; i < data.length; i++) {
      data[i] = values.get(i);
    }
    return manager.create(data, shape);
  }

  /** Uniform values in {@code [lo, hi)} from a seeded generator. */
  public static double[] uniform(Random random, int size, double lo, double hi) {
    double[] out = new double[size];
    for (int i = 0; i < size; i++) {
      out[i] = lo + (hi - lo) * random.nextDouble();
    }
    return out;
  }

  /** Whether {@code |actual - expected| <= atol + rtol * |expected|}. */
  public static boolean close(double actual, double expected, double rtol, double atol) {
    return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
  }

  private static void flatten(JsonNode node, List<Double> out) {
    if (node.isArray()) {
      for (JsonNode child : node) {
        flatten(child, out);
      }
    } else {
      out.add(node.asDouble());
    }
  }
}
