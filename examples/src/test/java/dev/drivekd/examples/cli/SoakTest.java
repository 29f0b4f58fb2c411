package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The CI version of {@code drivekd bench soak}: 504 micro-steps of student-tiny with three live
 * teachers and AGP, then with cached targets, each in a child JVM: the native arrays end where they
 * stood after the warm-up and resident memory grows by less than 50 MB. Step time is reported, not
 * asserted (this machine is shared). The long version is {@code drivekd bench soak}.
 */
class SoakTest {

  @Test
  void fiveHundredStepsLeaveArraysAndMemoryFlat() throws Exception {
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run("bench", "soak", "--steps", "500", "--warmup", "100", "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = new ObjectMapper().readTree(r.out());
    for (String mode : new String[] {"live", "cached"}) {
      JsonNode m = f.get(mode);
      assertEquals(504, m.get("micro_steps").asInt(), m.toString());
      assertEquals(0, m.get("skipped_updates").asInt(), m.toString());
      assertEquals(
          m.get("arrays_after_warmup").asLong(), m.get("arrays_at_end").asLong(), m.toString());
      assertTrue(m.get("rss_growth_mb").asDouble() < 50, m.toString());
      assertTrue(m.get("first_block_ms_per_step").asDouble() > 0, m.toString());
    }
  }
}
