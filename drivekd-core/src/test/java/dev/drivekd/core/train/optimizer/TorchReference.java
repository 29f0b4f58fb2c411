package dev.drivekd.core.train.optimizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Expected values computed by PyTorch itself ({@code src/test/python/torch_adamw_reference.py},
 * committed as {@code torch_adamw_reference.json}); CI has no Python.
 */
final class TorchReference {
  private static JsonNode root;

  private TorchReference() {}

  static synchronized JsonNode root() {
    if (root == null) {
      try (InputStream in =
          TorchReference.class.getResourceAsStream("torch_adamw_reference.json")) {
        if (in == null) {
          throw new IllegalStateException(
              "torch_adamw_reference.json is not on the test classpath");
        }
        root = new ObjectMapper().readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return root;
  }

  static float[] floats(JsonNode list) {
    float[] out = new float[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) list.get(i).asDouble();
    }
    return out;
  }

  static long[] shape(JsonNode dims) {
    long[] out = new long[dims.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = dims.get(i).asLong();
    }
    return out;
  }

  static String describe(float[] expected, float[] actual) {
    double max = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs((double) expected[i] - actual[i]));
    }
    return "max |diff| " + max;
  }

  /** {@code |a - e| <= atol + rtol |e|} elementwise. */
  static boolean close(float[] expected, float[] actual, double rtol, double atol) {
    if (expected.length != actual.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      double tol = atol + rtol * Math.abs(expected[i]);
      if (!(Math.abs((double) actual[i] - expected[i]) <= tol)) {
        return false;
      }
    }
    return true;
  }
}
