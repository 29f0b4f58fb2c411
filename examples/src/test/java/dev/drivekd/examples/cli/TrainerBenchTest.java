package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code bench trainer} on a tiny configuration: every figure is there and positive. */
class TrainerBenchTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void trainerBenchPrintsItsFiguresAsJson() throws Exception {
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run(
            "bench",
            "trainer",
            "--samples",
            "2",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--accumulation",
            "1",
            "--memory-repeats",
            "1",
            "--lengths",
            "128",
            "--long-samples",
            "3",
            "--long-repeats",
            "1",
            "--paper-length",
            "0",
            "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertEquals(2, f.get("samples").asInt());
    for (String key :
        new String[] {
          "ratio_agp_to_ce",
          "ratio_agp_to_sum",
          "ratio_agp_to_ce_cached",
          "ratio_agp_to_sum_cached",
          "ratio_agp_to_sum_once",
          "ratio_amortised_agp_to_ce_cached",
          "ratio_amortised_agp_to_agp_cached",
          "cache_build_seconds",
          "teacher_weights_mb"
        }) {
      assertTrue(f.has(key), key + " missing from " + f);
      assertTrue(f.get(key).asDouble() > 0, key + " = " + f.get(key));
    }
    // measured in child JVMs: training from cached targets holds no teacher, so it peaks lower
    assertTrue(f.get("peak_memory_measured_in").asText().startsWith("child processes"));
    double live = f.get("peak_mb_live_teachers").asDouble();
    double cached = f.get("peak_mb_cached_teachers").asDouble();
    assertTrue(cached > 0 && live > cached, "live " + live + " MB, cached " + cached + " MB");
    for (String config :
        new String[] {
          "ce",
          "sum_live",
          "agp_live",
          "sum_cached",
          "agp_cached",
          "sum_once_live",
          "sum_once_cached",
          "agp_amortised_cached"
        }) {
      assertTrue(f.get("samples_per_second").get(config).asDouble() > 0, config);
    }
    // three teacher-small models of about 5.5 MB each
    assertTrue(f.get("teacher_weights_mb").asDouble() > 10, f.toString());
    // the Drive-KD step on samples of exactly 128 tokens: its figures and their phase split
    assertEquals(128, f.get("setup_l128").get("length").asInt());
    assertEquals("student-tiny", f.get("setup_l128").get("student").asText());
    double share = f.get("loss_share_l128").asDouble();
    assertTrue(share > 0 && share < 1, "loss share " + share);
    // a ratio of timings: present and positive (one timed round on a shared host orders nothing)
    assertTrue(f.get("ratio_agp_to_ce_cached_student_tiny_l128").asDouble() > 0, f.toString());
    // the amortised-AGP figures are there (timings: compared by the benchmark, not asserted)
    JsonNode ms = f.get("ms_per_sample_student_tiny_l128");
    for (String config : new String[] {"agp_reused_cached", "agp_amortised_cached"}) {
      assertTrue(ms.get(config).asDouble() > 0, config + " in " + ms);
    }
    assertTrue(f.get("ratio_amortised_agp_to_agp_cached_student_tiny_l128").asDouble() > 0);
    JsonNode phases = f.get("phase_ms_per_sample_agp_cached_student_tiny_l128");
    for (String phase : new String[] {"forward", "losses", "backwards", "snapshots", "combine"}) {
      assertTrue(phases.get(phase).asDouble() > 0, phase + " in " + phases);
    }
    // one task's gradient to copy out instead of four
    double ceSnapshots =
        f.get("phase_ms_per_sample_ce_student_tiny_l128").get("snapshots").asDouble();
    assertTrue(ceSnapshots < phases.get("snapshots").asDouble(), ceSnapshots + " vs " + phases);
  }
}
