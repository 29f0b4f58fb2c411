package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The short CI version of {@code drivekd bench faults}: {@code drivekd train} killed with SIGKILL
 * four times at seeded random moments and resumed each time ends with the student of an
 * uninterrupted run, bit for bit, having never loaded a corrupt checkpoint; {@code cache-teachers}
 * killed twice never leaves a readable partial cache and finishes with the same files. The long
 * campaign (20 kills) is {@code drivekd bench faults} with its defaults (docs/reliability.md).
 */
class FaultCampaignTest {

  @Test
  void killedAndResumedRunsEndWhereAnUninterruptedOneEnds() throws Exception {
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run(
            "bench", "faults", "--kills", "4", "--cache-kills", "2", "--epochs", "4", "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = new ObjectMapper().readTree(r.out());
    assertTrue(f.get("kills").asInt() >= 1, r.out());
    assertEquals(f.get("kills").asInt(), f.get("resumes").asInt(), r.out());
    assertEquals(0, f.get("corrupt_checkpoints_loaded").asInt(), r.out());
    assertEquals(0, f.get("checkpoints_found_corrupt").asInt(), r.out());
    assertTrue(f.get("final_weights_equal").asBoolean(), r.out());
    // every checkpoint is a step, so a resume loses at most the step being saved
    assertTrue(f.get("steps_lost_max").asLong() <= 1, r.out());
    assertEquals(0, f.get("partial_caches_accepted").asInt(), r.out());
    assertTrue(f.get("cache_equal").asBoolean(), r.out());
  }
}
