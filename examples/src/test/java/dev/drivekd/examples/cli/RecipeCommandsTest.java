package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate, data check, train and cache-teachers from the command line. */
class RecipeCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path data;

  @TempDir Path dir;

  @BeforeAll
  static void generate() {
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run(
            "generate",
            "--out",
            data.toString(),
            "--split",
            "labelled",
            "--scenes",
            "4",
            "--with-teachers");
    assertEquals(0, r.status(), r.err());
  }

  private Path recipe(String name, String extra) throws Exception {
    return SynthDriveRecipe.write(
        dir,
        data,
        name,
        List.of("perception", "reasoning", "planning"),
        "loss_weights: {dynamic: false, ce: 1, perception: 100, reasoning: 100, planning: 100}",
        "optimizer: {learning_rate: 3.0e-3}",
        "training: {epochs: 1, micro_batch: 4, accumulation: 1}",
        "checkpoints: {every: 2}",
        extra);
  }

  @Test
  void generatedDataIsCleanAndABrokenFileHasItsProblemsListed() throws Exception {
    DriveKdCommandTest.Run clean =
        DriveKdCommandTest.run("data", "check", data.resolve("labelled.json").toString(), "--json");
    assertEquals(0, clean.status(), clean.err());
    JsonNode f = JSON.readTree(clean.out());
    assertEquals(12, f.get("samples").asInt());
    assertEquals(4, f.at("/per_capability/planning").asInt());
    assertEquals(0, f.get("problems").size());

    String text = Files.readString(data.resolve("labelled.json"));
    Path broken = data.resolve("broken.json");
    Files.writeString(
        broken,
        text.replaceFirst(
            "\"question_type\"\\s*:\\s*\"perception\"", "\"question_type\": \"banana\""));
    DriveKdCommandTest.Run bad = DriveKdCommandTest.run("data", "check", broken.toString());
    assertEquals(1, bad.status(), bad.out());
    assertTrue(
        bad.out().contains("problem: " + broken + ": record 0, field \"question_type\""),
        bad.out());

    assertEquals(2, DriveKdCommandTest.run("data", "check").status(), "FILE is required");
  }

  @Test
  void trainsFromARecipeRefusesToOverwriteAndResumesOnlyUnderTheSameRecipe() throws Exception {
    Path r = recipe("kd", "");
    DriveKdCommandTest.Run first =
        DriveKdCommandTest.run("train", "--recipe", r.toString(), "--json");
    assertEquals(0, first.status(), first.err());
    JsonNode f = JSON.readTree(first.out());
    assertEquals(3, f.get("optimizer_steps").asInt(), "12 samples in micro-batches of 4");
    Path run = dir.resolve("runs/kd");
    assertTrue(Files.exists(run.resolve("recipe.yaml")));
    assertTrue(Files.exists(run.resolve("recipe.resolved.json")));
    assertTrue(Files.exists(run.resolve("student/model.safetensors")));
    assertTrue(Files.exists(run.resolve("metrics.jsonl")));

    DriveKdCommandTest.Run again = DriveKdCommandTest.run("train", "--recipe", r.toString());
    assertEquals(2, again.status());
    assertTrue(again.err().contains("holds a run already: --resume continues it"), again.err());

    Path changed = recipe("kd", "schedule: {kind: constant}");
    DriveKdCommandTest.Run refused =
        DriveKdCommandTest.run("train", "--recipe", changed.toString(), "--resume");
    assertEquals(2, refused.status());
    assertTrue(
        refused
            .err()
            .contains(
                "the recipe changed since the run began (schedule.kind: \"cosine\" -> \"constant\")"),
        refused.err());

    Path longer = recipe("kd", "").toAbsolutePath();
    Files.writeString(longer, Files.readString(longer).replace("epochs: 1", "epochs: 2"));
    DriveKdCommandTest.Run resumed =
        DriveKdCommandTest.run(
            "train",
            "--recipe",
            longer.toString(),
            "--resume",
            "--allow-changed",
            "training.epochs",
            "--json");
    assertEquals(0, resumed.status(), resumed.err());
    assertEquals(
        6, JSON.readTree(resumed.out()).get("optimizer_steps").asInt(), "continued to 2 epochs");
  }

  @Test
  void cachedTeachersTrainTheSameStudentAsLiveOnes() throws Exception {
    Path live = recipe("live", "");
    Path cached = recipe("cached", "").toAbsolutePath();
    Files.writeString(
        cached,
        Files.readString(cached)
            .replace(
                "  planning: {folder:",
                "  cache: " + dir.resolve("cache") + "\n  planning: {folder:"));
    assertEquals(
        2, DriveKdCommandTest.run("train", "--recipe", cached.toString()).status(), "no cache yet");
    assertEquals(
        0, DriveKdCommandTest.run("cache-teachers", "--recipe", cached.toString()).status());
    assertEquals(0, DriveKdCommandTest.run("train", "--recipe", live.toString()).status());
    Files.walk(dir.resolve("runs/cached"))
        .sorted(java.util.Comparator.reverseOrder())
        .forEach(p -> p.toFile().delete());
    DriveKdCommandTest.Run c = DriveKdCommandTest.run("train", "--recipe", cached.toString());
    assertEquals(0, c.status(), c.err());
    assertEquals(
        -1L,
        Files.mismatch(
            dir.resolve("runs/live/student/model.safetensors"),
            dir.resolve("runs/cached/student/model.safetensors")),
        "bit for bit");

    // reasoning live, the others from a cache of their own: the same student again
    Path mixed = recipe("mixed", "").toAbsolutePath();
    Files.writeString(
        mixed,
        Files.readString(mixed)
            .replace(
                "  planning: {folder:",
                "  cache: " + dir.resolve("cache2") + "\n  planning: {folder:")
            .replace("/teachers/reasoning}", "/teachers/reasoning, live: true}"));
    assertEquals(
        0, DriveKdCommandTest.run("cache-teachers", "--recipe", mixed.toString()).status());
    DriveKdCommandTest.Run m = DriveKdCommandTest.run("train", "--recipe", mixed.toString());
    assertEquals(0, m.status(), m.err());
    assertEquals(
        -1L,
        Files.mismatch(
            dir.resolve("runs/live/student/model.safetensors"),
            dir.resolve("runs/mixed/student/model.safetensors")),
        "bit for bit");
  }

  @Test
  void layersOutsideAModelAndAForeignTeacherAreRefusedWithTheirKey() throws Exception {
    Path r = recipe("bad", "signals: {reasoning: {layers: [0, -30]}}");
    DriveKdCommandTest.Run e = DriveKdCommandTest.run("train", "--recipe", r.toString());
    assertEquals(2, e.status());
    assertTrue(e.err().startsWith("drivekd: " + r + ": signals.reasoning.layers: "), e.err());
    assertTrue(e.err().contains("-30"), e.err());
    assertFalse(Files.exists(dir.resolve("runs/bad")), "nothing written");

    Path foreign = dir.resolve("foreign");
    try (InternVlModel m =
        InternVlModel.create(
            InternVlConfig.preset("teacher-small").withTokenizer("another-vocabulary"),
            ai.djl.Device.cpu(),
            3)) {
      m.save(foreign);
    }
    Path t = recipe("foreign", "").toAbsolutePath();
    Files.writeString(
        t, Files.readString(t).replace(data + "/teachers/planning", foreign.toString()));
    DriveKdCommandTest.Run f = DriveKdCommandTest.run("train", "--recipe", t.toString());
    assertEquals(2, f.status());
    assertTrue(f.err().contains(": teachers.planning: "), f.err());
    assertTrue(f.err().contains("another-vocabulary"), f.err());

    Path missing = recipe("missing", "").toAbsolutePath();
    Files.writeString(
        missing, Files.readString(missing).replace(data + "/labelled.json", data + "/nope.json"));
    DriveKdCommandTest.Run m = DriveKdCommandTest.run("train", "--recipe", missing.toString());
    assertEquals(2, m.status());
    assertTrue(m.err().contains(": data.file: no such file: "), m.err());
    assertEquals(1, m.err().strip().lines().count(), "one line: " + m.err());
    assertFalse(Files.exists(dir.resolve("runs/missing")), "nothing written");
  }
}
