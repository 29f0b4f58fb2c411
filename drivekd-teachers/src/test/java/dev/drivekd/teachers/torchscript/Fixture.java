package dev.drivekd.teachers.torchscript;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.VlmBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/**
 * The committed TorchScript fixtures (written by src/test/python/make_fixture.py) and the inputs
 * and outputs recorded in {@code tiny-internvl/expected.json}.
 */
final class Fixture {

  static final String TINY = "tiny-internvl";
  static final String HYBRID = "tiny-hybrid";
  static final String DROPOUT = "tiny-dropout";
  static final String IGNORES_LAYERS = "ignores-layers";

  private static JsonNode expected;

  private Fixture() {}

  /** The {@code model.pt} of a fixture folder under {@code torchscript/}. */
  static Path model(String folder) {
    URL url = Fixture.class.getResource("/torchscript/" + folder + "/model.pt");
    if (url == null) {
      throw new IllegalStateException(
          "fixture torchscript/" + folder + "/model.pt not on the path");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The values Python recorded for the tiny model. */
  static synchronized JsonNode expected() {
    if (expected == null) {
      Path file = model(TINY).resolveSibling("expected.json");
      try {
        expected = new ObjectMapper().readTree(file.toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return expected;
  }

  /** The recorded two-sample batch: right padding, two images, labels on the last text tokens. */
  static VlmBatch batch(NDManager manager) {
    JsonNode json = expected();
    long[][] ids = longRows(json.get("input_ids"));
    long[][] labels = longRows(json.get("labels"));
    int[] lengths = new int[ids.length];
    boolean[][] image = new boolean[ids.length][ids[0].length];
    long placeholder = json.get("placeholder_id").asLong();
    for (int b = 0; b < ids.length; b++) {
      lengths[b] = json.get("lengths").get(b).asInt();
      for (int i = 0; i < lengths[b]; i++) {
        image[b][i] = ids[b][i] == placeholder;
      }
    }
    TokenLayout layout = TokenLayout.fromLabels(image, labels, lengths);
    return new VlmBatch(manager.create(ids), array(manager, json.get("pixel_values")), layout);
  }

  /** The recorded text-only batch: one sample, no image. */
  static VlmBatch textOnlyBatch(NDManager manager) {
    long[][] ids = longRows(expected().get("text_only").get("input_ids"));
    TokenLayout layout = TokenLayout.withoutVisionPositions(ids.length, ids[0].length);
    return new VlmBatch(manager.create(ids), null, layout);
  }

  /** An array from a recorded {@code {"shape": [...], "data": [...]}} entry. */
  static NDArray array(NDManager manager, JsonNode entry) {
    return manager.create(floats(entry.get("data")), shape(entry));
  }

  static Shape shape(JsonNode entry) {
    JsonNode dims = entry.get("shape");
    long[] out = new long[dims.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = dims.get(i).asLong();
    }
    return new Shape(out);
  }

  static float[] floats(JsonNode data) {
    float[] out = new float[data.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) data.get(i).asDouble();
    }
    return out;
  }

  /**
   * Asserts shape and element-wise {@code |a - e| <= atol + rtol |e|}, naming the worst element.
   */
  static void assertClose(JsonNode entry, NDArray actual, double atol, double rtol, String what) {
    assertEquals(shape(entry), actual.getShape(), what + " shape");
    assertClose(floats(entry.get("data")), actual, atol, rtol, what);
  }

  static void assertClose(float[] expected, NDArray actual, double atol, double rtol, String what) {
    float[] got = actual.toType(DataType.FLOAT32, false).toFloatArray();
    assertEquals(expected.length, got.length, what + " size");
    for (int i = 0; i < got.length; i++) {
      double limit = atol + rtol * Math.abs(expected[i]);
      if (!(Math.abs(got[i] - expected[i]) <= limit)) {
        fail(
            what
                + "["
                + i
                + "]: expected "
                + expected[i]
                + ", got "
                + got[i]
                + " (tol "
                + limit
                + ")");
      }
    }
  }

  /** The parameter called {@code name} (TorchScript's named_parameters naming). */
  static Parameter parameter(List<Parameter> parameters, String name) {
    return parameters.stream()
        .filter(p -> p.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no parameter " + name));
  }

  /** Sets every existing gradient to zero, closing the wrappers getGradient creates. */
  static void zeroGradients(List<Parameter> parameters) {
    for (Parameter parameter : parameters) {
      NDArray gradient = parameter.getArray().getGradient();
      if (gradient != null) {
        try (gradient) {
          gradient.subi(gradient);
        }
      }
    }
  }

  private static long[][] longRows(JsonNode rows) {
    long[][] out = new long[rows.size()][];
    for (int b = 0; b < out.length; b++) {
      out[b] = new long[rows.get(b).size()];
      for (int i = 0; i < out[b].length; i++) {
        out[b][i] = rows.get(b).get(i).asLong();
      }
    }
    return out;
  }
}
