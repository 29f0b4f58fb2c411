package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code drivekd bench corruption}: every file a run reads, truncated, bit-flipped and emptied in
 * turn. A damaged checkpoint part sends the run back to the previous checkpoint; every other
 * damaged file is refused with a message naming it; the one corruption no format here can see (a
 * flipped bit inside the dataset's JSON text) is listed as undetected, not hidden.
 */
class CorruptionCampaignTest {

  @Test
  void everyDamagedFileIsCaughtAndNamed() throws Exception {
    DriveKdCommandTest.Run r = DriveKdCommandTest.run("bench", "corruption", "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = new ObjectMapper().readTree(r.out());
    int tried = f.get("cases_tried").asInt();
    assertTrue(tried >= 40, r.out());
    assertEquals(f.get("refusals").asInt(), f.get("refusals_naming_the_file").asInt(), r.out());
    List<String> undetected = new ObjectMapper().convertValue(f.get("undetected"), List.class);
    assertEquals(List.of("labelled.json (one bit flipped mid-file)"), undetected, r.out());
    assertEquals(tried - 1, f.get("cases_caught").asInt(), r.out());
    for (JsonNode c : f.get("cases")) {
      String file = c.get("file").asText();
      String outcome = c.get("outcome").asText();
      if (file.startsWith("step-")) {
        assertTrue(outcome.startsWith("previous checkpoint"), c.toString());
      } else if (file.equals("latest")) {
        assertEquals("newest checkpoint, verified", outcome, c.toString());
      } else if (!file.equals("labelled.json")) {
        assertEquals("refused", outcome, c.toString());
      }
    }
  }
}
