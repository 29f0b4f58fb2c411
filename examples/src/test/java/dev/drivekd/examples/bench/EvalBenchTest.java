package dev.drivekd.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code bench eval}: JSON keys and the deployment table; PyTorch's tokens only where Python is.
 */
class EvalBenchTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String[] TINY = {
    "bench",
    "eval",
    "--prompt-length",
    "40",
    "--images",
    "1",
    "--new-tokens",
    "6",
    "--repeats",
    "1",
    "--in-process",
    "--json"
  };

  private static String[] with(String... extra) {
    String[] args = java.util.Arrays.copyOf(TINY, TINY.length + extra.length);
    System.arraycopy(extra, 0, args, TINY.length, extra.length);
    return args;
  }

  @Test
  void printsTheCacheGainAndTheDeploymentTableOfEachPreset() throws Exception {
    ModelBenchTest.Run r = ModelBenchTest.run(with("--no-python"));
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertTrue(f.get("kv_cache_speedup_6_tokens").asDouble() > 0, f.toString());
    assertFalse(f.has("decode_ratio_to_pytorch"));
    assertEquals("--no-python", f.get("pytorch_skipped").asText());
    for (String preset : new String[] {"student_tiny", "teacher_small"}) {
      assertTrue(f.get("decode_tokens_per_second_" + preset).asDouble() > 0, preset);
      assertTrue(f.get("uncached_tokens_per_second_" + preset).asDouble() > 0, preset);
    }
    JsonNode student = f.at("/deployment/student-tiny");
    JsonNode teacher = f.at("/deployment/teacher-small");
    assertEquals(310112, student.get("parameters").asLong());
    assertEquals(1432832, teacher.get("parameters").asLong());
    assertEquals(40, student.get("prompt_length").asInt());
    assertEquals(1432832.0 / 310112, f.at("/teacher_to_student/parameters").asDouble(), 1e-3);
    assertTrue(teacher.get("weight_mb").asDouble() > student.get("weight_mb").asDouble());
  }

  @Test
  void pytorchDecodesTheSameTokensWhereItIsInstalled() throws Exception {
    assumeTrue(PyTorchAnchor.unavailable("/usr/bin/python3") == null, "no Python with torch");
    ModelBenchTest.Run r = ModelBenchTest.run(with("--presets", "student-tiny"));
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertTrue(f.get("tokens_equal_pytorch_student_tiny").asBoolean(), f.toString());
    assertTrue(f.get("decode_ratio_to_pytorch").asDouble() > 0);
  }
}
