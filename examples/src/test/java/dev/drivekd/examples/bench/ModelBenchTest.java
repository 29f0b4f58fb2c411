package dev.drivekd.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.examples.cli.DriveKdCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bench model}: options, JSON keys, the synthetic sample; the anchor only where Python is.
 */
class ModelBenchTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Options that keep a run to a few seconds. */
  private static final String[] TINY = {
    "bench", "model", "--presets", "student-tiny", "--lengths", "32", "--repeats", "1",
    "--warmup", "1", "--warmup-ms", "0", "--gap-ms", "0", "--in-process", "--memory-preset",
    "student-tiny", "--memory-length", "32", "--json"
  };

  record Run(int status, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = DriveKdCommand.newCommandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int status = cli.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  private static String[] with(String... extra) {
    List<String> args = new ArrayList<>(Arrays.asList(TINY));
    args.addAll(Arrays.asList(extra));
    return args.toArray(new String[0]);
  }

  @Test
  void withoutPythonPrintsDrivekdFiguresAndNoRatio() throws Exception {
    Run r = run(with("--python", "/nonexistent/python3"));
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertEquals("model", f.get("benchmark").asText());
    assertFalse(f.get("anchor_measured").asBoolean());
    assertTrue(f.get("anchor_not_measured_because").asText().contains("/nonexistent/python3"));
    assertTrue(r.err().contains("PyTorch anchor not measured"), r.err());
    assertTrue(f.get("threads").asInt() > 0);
    assertTrue(f.get("step_ms_student_tiny_l32").asDouble() > 0);
    assertFalse(f.has("ratio_to_pytorch_l32"));
    assertFalse(f.has("ratio_to_pytorch_student_tiny_l32"));
    // in this process the peaks undercount (glibc reuses freed memory): the figures say so, and
    // each is a measured number (NaN would mean /proc could not be read)
    assertEquals("this process (undercounts)", f.get("peak_memory_measured_in").asText());
    for (String key :
        new String[] {"peak_mb_no_maps", "peak_mb_one_layer_maps", "peak_mb_all_layer_maps"}) {
      assertTrue(f.get(key).isNumber() && !Double.isNaN(f.get(key).asDouble()), key);
    }
    JsonNode c = f.get("cases").get(0);
    assertEquals("student-tiny", c.get("preset").asText());
    assertEquals(32, c.get("length").asInt());
    assertEquals(1, c.get("images").asInt());
    assertEquals(8, c.get("answer_tokens").asInt());
    assertEquals("[0,1,2]", c.get("layers").toString());
    assertTrue(c.get("forward_ms").asDouble() > 0);
    assertTrue(c.get("backward_ms").asDouble() > 0);
    assertTrue(c.get("no_maps_step_ms").asDouble() > 0);
    assertTrue(c.get("maps_to_no_maps").asDouble() > 0);
  }

  @Test
  void noPythonSaysSoInTheTable() {
    List<String> args = new ArrayList<>(Arrays.asList(with("--no-python")));
    args.remove("--json");
    Run r = run(args.toArray(new String[0]));
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("PyTorch anchor not measured: --no-python"), r.out());
    assertTrue(r.out().contains("student-tiny"), r.out());
  }

  @Test
  void anUnknownPresetIsAUsageError() {
    Run r = run("bench", "model", "--presets", "student-huge", "--no-python");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("student-huge"), r.err());
  }

  /** Runs only where /usr/bin/python3 has torch: the anchor script must be the same model. */
  @Test
  void theAnchorRebuildsTheSameModel() throws Exception {
    assumeTrue(PyTorchAnchor.unavailable("/usr/bin/python3") == null, "no Python with torch");
    Run r = run(TINY);
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertTrue(f.get("anchor_measured").asBoolean());
    assertTrue(f.get("max_abs_logit_diff").asDouble() < 1e-4, r.out());
    assertTrue(f.get("ratio_to_pytorch_l32").asDouble() > 0);
    assertTrue(f.get("ratio_to_pytorch_student_tiny_l32").asDouble() > 0);
    assertTrue(f.get("torch_threads").asInt() == f.get("threads").asInt());
    // each side's step peak, measured beside the other (tiny here: the ratio may be left out)
    assertTrue(f.get("peak_mb_student_tiny_l32").asDouble() >= 0, r.out());
    assertTrue(f.get("pytorch_peak_mb_student_tiny_l32").asDouble() >= 0, r.out());
    assertTrue(f.has("peak_mb_ratio_to_pytorch_student_tiny_l32"));
    assertTrue(f.get("step_peaks_allocator").asText().startsWith("glibc default"), r.out());
    JsonNode c = f.get("cases").get(0);
    assertEquals(c.get("loss").asDouble(), c.get("pytorch_loss").asDouble(), 1e-4);
  }

  @Test
  void theSampleHasExactlyTheRequestedPositions() {
    InternVlConfig config = InternVlConfig.preset("teacher-small");
    ModelBenchmark.Sample s = ModelBenchmark.Sample.synthetic(config, 128, 2, 7);
    assertEquals(128, s.ids().length);
    assertEquals(2, s.images());
    assertEquals(32, s.visionPositions());
    assertEquals(32, s.answerTokens());
    int vision = 0;
    for (int i = 0; i < 128; i++) {
      if (s.image()[i]) {
        vision++;
        assertEquals(ModelBenchmark.PLACEHOLDER, s.ids()[i]);
        assertEquals(TokenLayout.IGNORE_LABEL, s.labels()[i]);
      }
      // the answer is the last quarter, labelled with its own ids
      assertEquals(i >= 96, s.labels()[i] != TokenLayout.IGNORE_LABEL, "position " + i);
    }
    assertEquals(32, vision);
    assertEquals(2 * 3 * 112 * 112, s.pixels().length);
    assertArrayEquals(s.ids(), ModelBenchmark.Sample.synthetic(config, 128, 2, 7).ids());
    // too short for one image, two prompt tokens and the answer
    assertThrows(
        IllegalArgumentException.class, () -> ModelBenchmark.Sample.synthetic(config, 16, 2, 7));
  }

  @Test
  void recipeLayersAreFirstMiddleAndPenultimate() {
    assertArrayEquals(new int[] {0, 1, 2}, ModelBenchmark.recipeLayers(4));
    assertArrayEquals(new int[] {0, 2, 4}, ModelBenchmark.recipeLayers(6));
    assertArrayEquals(new int[] {0}, ModelBenchmark.recipeLayers(1));
  }

  @Test
  void pairedRatioIsTheMedianOfPerRepeatRatios() {
    // a burst of load in repeat 2 slows both sides; the paired ratio is unmoved
    double[] a = {12, 11, 60, 12, 13};
    double[] b = {10, 10, 50, 10, 10};
    assertEquals(1.2, ModelBenchmark.pairedRatio(a, b), 1e-12);
    assertEquals(2.5, ModelBenchmark.median(new double[] {4, 1, 2, 3}), 1e-12);
  }
}
