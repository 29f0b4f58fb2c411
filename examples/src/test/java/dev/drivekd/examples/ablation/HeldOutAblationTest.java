package dev.drivekd.examples.ablation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The held-out ablation end to end at toy sizes: teachers made, students trained, report written.
 */
class HeldOutAblationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path teachers;
  static SynthDriveTeachers.Manifest manifest;

  @BeforeAll
  static void makeTeachers() throws Exception {
    teachers = dir.resolve("teachers");
    manifest =
        SynthDriveTeachers.train(
            teachers,
            SynthDriveConfig.defaults(),
            new SynthDriveTeachers.Recipe(1, 6, "teacher-small", 0.08, 2, 4, 3e-3, 1.0, 1.0, 5),
            null);
  }

  @Test
  void teachersRecordTheGeneratorAndTheirWeights() throws Exception {
    assertEquals(SynthDriveConfig.defaults().fingerprint(), manifest.generator());
    assertEquals(Set.of("perception", "reasoning", "planning"), manifest.weights().keySet());
    assertEquals(3, new HashSet<>(manifest.weights().values()).size(), "three distinct teachers");
    for (String c : manifest.weights().keySet()) {
      assertTrue(Files.exists(teachers.resolve(c).resolve("model.safetensors")), c);
    }
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SynthDriveTeachers.train(
                teachers, SynthDriveConfig.defaults(), SynthDriveTeachers.Recipe.defaults(), null),
        "a folder with teachers is not overwritten");
  }

  @Test
  void everyVariantIsTrainedAndScoredOnTheTestSplit() throws Exception {
    Path run = dir.resolve("run");
    HeldOutAblation.Options o = HeldOutAblation.Options.defaults(run, teachers).quick();
    HeldOutAblation.Result result = HeldOutAblation.run(o);
    AblationReport.write(run, result, o);

    List<HeldOutAblation.Row> rows = result.rows();
    assertEquals(AblationVariant.TABLE_3.size(), rows.size(), "one seed, every variant");
    int questions = result.questions().values().stream().mapToInt(Integer::intValue).sum();
    assertTrue(questions > 0);
    long steps = rows.get(0).optimizerSteps();
    assertEquals((result.labelled() + 3) / 4, steps, "one epoch of micro-batches of 4");
    for (HeldOutAblation.Row r : rows) {
      assertEquals(steps, r.optimizerSteps(), r.variant() + ": the same budget for every variant");
      assertTrue(r.accuracyOverall() >= 0 && r.accuracyOverall() <= 1, r.toString());
      // accuracy is a count of right answers over the questions
      double scaled = r.accuracyOverall() * questions;
      assertEquals(Math.round(scaled), scaled, 1e-9, r.toString());
      assertEquals(0, r.skippedUpdates(), r.variant());
    }
    // students of one seed start alike: CE only and a distilled variant differ only by the teachers
    assertFalse(
        rows.get(0).attentionGap().equals(rows.get(5).attentionGap()),
        "Drive-KD's student moved differently from CE only's");

    JsonNode f = JSON.readTree(run.resolve(AblationReport.JSON_FILE).toFile());
    assertTrue(f.get("seconds").asDouble() > 0);
    assertEquals(1, f.get("seeds").get(0).asInt());
    assertEquals(rows.size(), f.get("rows").size());
    JsonNode first = f.get("rows").get(0);
    assertEquals("ce_only", first.get("variant").asText());
    for (String key :
        new String[] {
          "seed",
          "accuracy_overall",
          "accuracy_perception",
          "accuracy_reasoning",
          "accuracy_planning"
        }) {
      assertTrue(first.has(key), key);
    }
    assertEquals("drive_kd", f.get("rows").get(5).get("variant").asText());
    String md = Files.readString(run.resolve(AblationReport.MARKDOWN_FILE));
    for (AblationVariant v : AblationVariant.TABLE_3) {
      assertTrue(md.contains("| " + v.key() + " |"), v.key());
    }
    assertEquals(900, ImageIO.read(run.resolve(AblationReport.CHART_FILE).toFile()).getWidth());

    // the same folder again: refused before anything trains
    IllegalArgumentException again =
        assertThrows(IllegalArgumentException.class, () -> HeldOutAblation.run(o));
    assertTrue(again.getMessage().contains("already holds results"), again.getMessage());
  }

  @Test
  void teachersMadeForOtherGeneratorSettingsAreRefused() throws Exception {
    Path copy = dir.resolve("other-teachers");
    Files.createDirectories(copy);
    ObjectNode m =
        (ObjectNode) JSON.readTree(teachers.resolve(SynthDriveTeachers.MANIFEST).toFile());
    m.put("generator", m.get("generator").asText().replace("grid=4", "grid=8"));
    JSON.writeValue(copy.resolve(SynthDriveTeachers.MANIFEST).toFile(), m);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> HeldOutAblation.run(HeldOutAblation.Options.defaults(dir.resolve("r2"), copy)));
    assertTrue(e.getMessage().contains("teachers.json"), e.getMessage());
    assertTrue(e.getMessage().contains("made for SynthDrive"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("r2").resolve("data")), "refused before anything runs");
  }
}
