package dev.drivekd.core.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.DataFingerprint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provenance: dataset SHA-256 values (FIPS 180-2 "abc" vector), versions, JSON round trip. */
class RunProvenanceTest {

  private static final String SHA_ABC =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String SHA_EMPTY =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @TempDir Path dir;

  @Test
  void fingerprintsAreSha256OfTheFiles() throws IOException {
    Path abc = Files.writeString(dir.resolve("train.json"), "abc");
    Path empty = Files.writeString(dir.resolve("extra.json"), "");
    assertEquals(SHA_ABC, DataFingerprint.sha256(abc));
    assertEquals(SHA_ABC, DataFingerprint.of(List.of(abc)));
    // Several files: SHA-256 of "<hex>\n<hex>\n", computed with Python's hashlib.
    assertEquals(
        "ff481ce4c9482a1350469a8ff263915d6a478123e3a0c03f6eba5cb3e38a150f",
        DataFingerprint.of(List.of(abc, empty)));
    assertThrows(IllegalArgumentException.class, () -> DataFingerprint.of(List.of()));
  }

  @Test
  void captureRecordsRecipeSeedsVersionsAndData() throws IOException {
    Path abc = Files.writeString(dir.resolve("train.json"), "abc");
    ObjectNode recipe = new ObjectMapper().createObjectNode().put("epochs", 3);
    RunProvenance p = RunProvenance.capture(recipe, Map.of("data-order", 42L), List.of(abc));
    assertEquals(3, p.recipe().get("epochs").asInt());
    assertEquals(Map.of("data-order", 42L), p.seeds());
    assertEquals(Map.of(abc.toString(), SHA_ABC), p.dataFiles());
    assertEquals(SHA_ABC, p.dataFingerprint());
    assertEquals("0.1.0-SNAPSHOT", p.versions().get("drivekd"));
    assertEquals("0.36.0", p.versions().get("djl"));
    assertEquals("2.7.1", p.versions().get("libtorch"));
    assertEquals(System.getProperty("java.version"), p.versions().get("java"));
    assertTrue(Instant.parse(p.createdAt()).isBefore(Instant.now().plusSeconds(1)));

    ObjectMapper json = new ObjectMapper();
    assertEquals(p, json.readValue(json.writeValueAsString(p), RunProvenance.class));
    recipe.put("epochs", 4);
    assertEquals(3, p.recipe().get("epochs").asInt(), "the recipe is copied");
  }
}
