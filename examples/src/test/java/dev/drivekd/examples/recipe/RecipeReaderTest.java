package dev.drivekd.examples.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeReaderTest {

  @TempDir Path dir;

  private static final String MINIMAL =
      String.join(
          "\n",
          "output: runs/x",
          "data: {file: d.json}",
          "tokenizer: {kind: from_data}",
          "student: {preset: student-tiny}",
          "teachers:",
          "  perception: {preset: teacher-small, seed: 2}",
          "  planning: {folder: t/planning}",
          "");

  private Recipe read(String yaml, Map<String, String> env) throws IOException {
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, yaml);
    return RecipeReader.read(f, env);
  }

  private RecipeException fails(String yaml) {
    return assertThrows(RecipeException.class, () -> read(yaml, Map.of()));
  }

  @Test
  void aMinimalRecipeGetsThePapersDefaults() throws IOException {
    Recipe r = read(MINIMAL, Map.of());
    assertEquals(42, r.seed());
    assertEquals("auto", r.device());
    assertEquals(
        new Recipe.Model("preset", "teacher-small", 2, "preset", false),
        r.teachers().get(Capability.PERCEPTION));
    assertEquals("folder", r.teachers().get(Capability.PLANNING).kind());
    // signals only for the capabilities with a teacher, the paper's
    assertEquals(2, r.signals().size());
    assertEquals(
        new Recipe.Signal(0, null, null, "text_to_vision", "mse"),
        r.signals().get(Capability.PERCEPTION));
    assertEquals(
        new Recipe.Signal(-2, null, null, "text_to_vision", "mse"),
        r.signals().get(Capability.PLANNING));
    assertEquals("paper", r.mixing().kind());
    assertTrue(r.lossWeights().dynamic());
    assertEquals("agp", r.projection().kind());
    assertEquals(new Recipe.Training(1, 1, 4, true, false), r.training());
    assertEquals(new Recipe.Checkpoints(50, 3, 0), r.checkpoints());
    assertNull(r.teacherCache());
  }

  @Test
  void environmentVariablesAreSubstitutedWithDefaults() throws IOException {
    String yaml =
        MINIMAL.replace("runs/x", "${RUNS}/x").replace("d.json", "\"${DATA:-data}/d.json\"");
    Recipe r = read(yaml, Map.of("RUNS", "/tmp/runs"));
    assertEquals("/tmp/runs/x", r.output());
    assertEquals("data/d.json", r.data().file());
    RecipeException e = assertThrows(RecipeException.class, () -> read(yaml, Map.of()));
    assertEquals("output", e.key());
    assertTrue(e.getMessage().contains("environment variable RUNS is not set"), e.getMessage());
  }

  @Test
  void everyMistakeNamesFileKeyAndWhatIsAllowed() {
    RecipeException e = fails(MINIMAL + "optimizer: {learnig_rate: 0.1}\n");
    assertEquals("optimizer.learnig_rate", e.key());
    assertTrue(
        e.getMessage()
            .startsWith(
                dir.resolve("r.yaml") + ": optimizer.learnig_rate: unknown key; allowed here:"),
        e.getMessage());
    assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());

    e = fails(MINIMAL + "training: {epochs: two}\n");
    assertEquals("training.epochs", e.key());
    assertTrue(e.getMessage().contains("expected an integer, found a string"), e.getMessage());

    e = fails(MINIMAL + "training: {epochs: 0}\n");
    assertTrue(e.getMessage().endsWith("training.epochs: 0 is outside 1..100000"), e.getMessage());

    e = fails(MINIMAL + "projection: {kind: magic}\n");
    assertTrue(
        e.getMessage().endsWith("\"magic\" is not one of agp, none, g1, g2, pcgrad"),
        e.getMessage());

    e = fails(MINIMAL.replace("data: {file: d.json}\n", ""));
    assertEquals("data", e.key());

    e = fails(MINIMAL.replace("{preset: student-tiny}", "{preset: student-tiny, folder: s}"));
    assertEquals("student", e.key());
    assertTrue(e.getMessage().contains("exactly one of preset, folder, torchscript"));

    e = fails(MINIMAL.replace("{folder: t/planning}", "{folder: t/planning, seed: 3}"));
    assertEquals("teachers.planning.seed", e.key());

    e = fails(MINIMAL + "signals: {perception: {layer: 0, layers: [0, 2]}}\n");
    assertEquals("signals.perception.layers", e.key());

    e = fails(MINIMAL + "mixing: {kind: rows, perception: [1, 0, 0]}\n");
    assertEquals("mixing.reasoning", e.key());

    e = fails(MINIMAL + "data2: {}\n");
    assertEquals("data2", e.key());

    e = fails("output: [1, 2\n");
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
  }

  @Test
  void signalsAndMixingRowsAreRead() throws IOException {
    Recipe r =
        read(
            MINIMAL
                + "signals:\n"
                + "  perception: {layer: 1, region: full, loss: cosine}\n"
                + "  planning: {layers: [2, -3]}\n"
                + "mixing: {kind: rows, perception: [1, 0, 0], reasoning: [0, 1, 0], planning: [0.2, 0, 0.8]}\n",
            Map.of());
    assertEquals(
        new Recipe.Signal(1, null, null, "full", "cosine"), r.signals().get(Capability.PERCEPTION));
    assertEquals(
        new Recipe.Signal(null, 2, -3, "text_to_vision", "mse"),
        r.signals().get(Capability.PLANNING));
    assertArrayEquals(new double[] {0.2, 0, 0.8}, r.mixing().rows().get(Capability.PLANNING));
  }

  @Test
  void everyShippedRecipeReads() throws IOException {
    Path recipes =
        Path.of(System.getProperty("drivekd.project.dir", "..")).resolve("examples/recipes");
    if (!Files.isDirectory(recipes)) {
      recipes = Path.of("recipes");
    }
    try (var files = Files.list(recipes)) {
      long n =
          files
              .filter(p -> p.toString().endsWith(".yaml"))
              .peek(p -> RecipeReader.read(p, Map.of()))
              .count();
      assertTrue(n >= 9, n + " recipes");
    }
  }
}
