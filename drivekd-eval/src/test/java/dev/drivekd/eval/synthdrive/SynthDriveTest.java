package dev.drivekd.eval.synthdrive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.text.WordPreTokenizer;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.eval.McqOption;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SynthDrive: determinism, disjoint splits, the reference format, and answers the scene implies.
 */
class SynthDriveTest {

  private static final SynthDriveConfig CONFIG = SynthDriveConfig.defaults();

  @TempDir Path dir;

  @Test
  void aSeedGivesTheSameFilesByteForByteAndAnotherSeedOthers() throws IOException {
    Path a = new SynthDrive(CONFIG, 7).write(dir.resolve("a"), SynthDrive.Split.TEST, 4);
    Path b = new SynthDrive(CONFIG, 7).write(dir.resolve("b"), SynthDrive.Split.TEST, 4);
    Path c = new SynthDrive(CONFIG, 8).write(dir.resolve("c"), SynthDrive.Split.TEST, 4);
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    assertNotEquals(Files.readString(a), Files.readString(c));
    try (Stream<Path> images = Files.list(dir.resolve("a/images/test"))) {
      List<Path> files = images.toList();
      assertEquals(4, files.size());
      for (Path image : files) {
        Path twin = dir.resolve("b/images/test").resolve(image.getFileName());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(twin), image.toString());
      }
    }
  }

  @Test
  void splitsNeverShareAScene() {
    SynthDrive synth = new SynthDrive(CONFIG, 7);
    Set<Long> seeds = new HashSet<>();
    int drawn = 0;
    for (SynthDrive.Split split : SynthDrive.Split.values()) {
      for (int i = 0; i < 3000; i++) {
        seeds.add(synth.sceneSeed(split, i));
        drawn++;
      }
    }
    assertEquals(drawn, seeds.size(), "every scene of every split has a seed of its own");
    assertNotEquals(
        synth.scene(SynthDrive.Split.TRAIN, 0).objects(),
        synth.scene(SynthDrive.Split.TEST, 0).objects());
  }

  @Test
  void theReaderReadsEveryRecordWithItsImages() {
    Path file = new SynthDrive(CONFIG, 3).write(dir, SynthDrive.Split.LABELLED, 20);
    DrivingDataset data =
        DrivingDatasetReader.builder()
            .optDataRoot(dir)
            .optImageCheckPolicy(ImageCheckPolicy.REQUIRE_READABLE)
            .build()
            .read(file);
    assertEquals(60, data.size(), "three questions per scene");
    Map<Capability, Integer> counts = new EnumMap<>(Capability.class);
    for (DrivingSample s : data.samples()) {
      counts.merge(s.capability(), 1, Integer::sum);
      assertEquals(1, s.images().size());
    }
    assertEquals(
        Map.of(Capability.PERCEPTION, 20, Capability.REASONING, 20, Capability.PLANNING, 20),
        counts);
    assertTrue(Files.exists(dir.resolve("labelled.synthdrive.json")));
  }

  @Test
  void twoCamerasGiveTwoImagesPerRecord() {
    SynthDriveConfig two = CONFIG.withCameras(2);
    Path file = new SynthDrive(two, 3).write(dir, SynthDrive.Split.TEST, 5);
    DrivingDataset data = DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
    for (DrivingSample s : data.samples()) {
      assertEquals(2, s.images().size());
      assertTrue(s.question().startsWith("<image><image>"), s.question());
    }
  }

  /** Every answer is the one the scene implies, and its Final: line reads as its option. */
  @Test
  void everyAnswerFollowsFromTheScene() {
    SynthDrive synth = new SynthDrive(CONFIG, 11);
    Map<String, Integer> types = new java.util.TreeMap<>();
    for (int i = 0; i < 400; i++) {
      Scene scene = synth.scene(SynthDrive.Split.TRAIN, i);
      for (Question q : synth.questions(scene)) {
        types.merge(q.type(), 1, Integer::sum);
        if (q.isMultipleChoice()) {
          assertEquals(
              q.correct(), McqOption.of(q.answer(), McqOption.Rule.FINAL_OPTION), q.answer());
          assertTrue(McqOption.isMultipleChoice(q.text()), q.text());
        }
        String expected = expectedOption(scene, q);
        assertEquals(expected, q.correct().map(String::valueOf).orElse(expected), q.text());
      }
    }
    for (String type :
        List.of("describe", "kind", "colour", "light", "same_colour", "larger", "action")) {
      assertTrue(types.getOrDefault(type, 0) > 10, type + " asked " + types);
    }
  }

  /** The option the scene implies, recomputed here from the objects the question's tags name. */
  private static String expectedOption(Scene scene, Question q) {
    List<Cell> tagged = taggedCells(q.text());
    switch (q.type()) {
      case "colour":
        return letter(scene.at(tagged.get(0)).orElseThrow().paint().ordinal());
      case "kind":
        return letter(scene.at(tagged.get(0)).orElseThrow().kind().ordinal());
      case "light":
        assertEquals(scene.light(), tagged.get(0));
        return letter(scene.lightState().ordinal());
      case "same_colour":
        {
          Paint a = scene.at(tagged.get(0)).orElseThrow().paint();
          Paint b = scene.at(tagged.get(1)).orElseThrow().paint();
          return a == b ? "A" : "B";
        }
      case "larger":
        {
          int a = scene.at(tagged.get(0)).orElseThrow().kind().size();
          int b = scene.at(tagged.get(1)).orElseThrow().kind().size();
          return a > b ? "A" : b > a ? "B" : "C";
        }
      case "action":
        return action(scene);
      case "describe":
        {
          SceneObject o = scene.at(tagged.get(0)).orElseThrow();
          assertTrue(q.answer().contains(o.description()), q.answer());
          return "-";
        }
      default:
        throw new AssertionError("unknown type " + q.type());
    }
  }

  /** The planning rule, written out again: light first, then what is in the two nearest rows. */
  private static String action(Scene scene) {
    int grid = CONFIG.grid();
    boolean pedestrian = false;
    boolean nearVehicle = false;
    boolean midVehicle = false;
    boolean leftBusy = false;
    for (SceneObject o : scene.objects()) {
      Cell c = o.cell();
      boolean ego = c.column() == 1 || c.column() == 2;
      if (ego && c.row() >= grid - 2 && o.kind() == ObjectKind.PEDESTRIAN) {
        pedestrian = true;
      } else if (ego && c.row() == grid - 1) {
        nearVehicle = true;
      } else if (ego && c.row() == grid - 2) {
        midVehicle = true;
      }
      leftBusy |= c.column() == 0 && c.row() >= grid - 2;
    }
    if (scene.lightState() == LightState.RED || pedestrian) {
      return "A";
    }
    if (scene.lightState() == LightState.YELLOW) {
      return "B";
    }
    if (nearVehicle) {
      return leftBusy ? "B" : "C";
    }
    return midVehicle ? "B" : "D";
  }

  @Test
  void thePlanningRuleOnHandMadeScenes() {
    Cell light = new Cell(0, 0, 1);
    SceneObject nearCar = new SceneObject(ObjectKind.CAR, Paint.RED, new Cell(0, 3, 1));
    SceneObject midCar = new SceneObject(ObjectKind.CAR, Paint.RED, new Cell(0, 2, 2));
    SceneObject farCar = new SceneObject(ObjectKind.CAR, Paint.RED, new Cell(0, 1, 2));
    SceneObject leftNear = new SceneObject(ObjectKind.TRUCK, Paint.BLUE, new Cell(0, 3, 0));
    SceneObject walker = new SceneObject(ObjectKind.PEDESTRIAN, Paint.BLUE, new Cell(0, 2, 1));
    SceneObject sidewalk = new SceneObject(ObjectKind.PEDESTRIAN, Paint.BLUE, new Cell(0, 3, 3));
    assertEquals("A", plan(LightState.RED, farCar, sidewalk));
    assertEquals("A", plan(LightState.GREEN, walker, farCar));
    assertEquals("B", plan(LightState.YELLOW, farCar, sidewalk));
    assertEquals("C", plan(LightState.GREEN, nearCar, sidewalk));
    assertEquals("B", plan(LightState.GREEN, nearCar, leftNear));
    assertEquals("B", plan(LightState.GREEN, midCar, sidewalk));
    assertEquals("D", plan(LightState.GREEN, farCar, sidewalk));
    assertEquals("D", plan(LightState.GREEN, leftNear, sidewalk));
  }

  private static String plan(LightState state, SceneObject... objects) {
    Scene scene =
        new Scene(
            "hand", 1, Lighting.DAY, new Cell(0, 0, 1), state, Optional.empty(), List.of(objects));
    Question q = new QuestionWriter(CONFIG).questions(scene).get(2);
    assertEquals(Capability.PLANNING, q.capability());
    assertEquals(action(scene), String.valueOf(q.correct().orElseThrow()));
    return String.valueOf(q.correct().orElseThrow());
  }

  /**
   * The tagged cell shows the object: its paint is in that cell of the image, not in an empty one.
   */
  @Test
  void theTaggedCellShowsTheObjectsPaint() {
    SynthDrive synth = new SynthDrive(CONFIG, 5);
    int checked = 0;
    for (int i = 0; i < 150; i++) {
      Scene scene = synth.scene(SynthDrive.Split.TEST, i);
      BufferedImage image = synth.images(scene).get(0);
      for (SceneObject o : scene.objects()) {
        Color paint = scene.lighting().shade(o.paint().rgb());
        assertTrue(pixelsNear(image, o.cell(), paint) >= 4, scene.id() + " " + o);
        checked++;
      }
      for (int row = 1; row < CONFIG.grid(); row++) {
        for (int column = 0; column < CONFIG.grid(); column++) {
          Cell empty = new Cell(0, row, column);
          if (scene.at(empty).isEmpty()) {
            for (Paint p : Paint.values()) {
              Color c = scene.lighting().shade(p.rgb());
              assertTrue(pixelsNear(image, empty, c) < 4, scene.id() + " empty " + empty + " " + p);
            }
          }
        }
      }
    }
    assertTrue(checked > 400);
  }

  /** Pixels of {@code cell} within the noise (plus one level) of {@code colour} in each channel. */
  private static int pixelsNear(BufferedImage image, Cell cell, Color colour) {
    int size = CONFIG.cellSize();
    int tolerance = CONFIG.noise() + 1;
    int count = 0;
    for (int y = cell.row() * size; y < (cell.row() + 1) * size; y++) {
      for (int x = cell.column() * size; x < (cell.column() + 1) * size; x++) {
        Color p = new Color(image.getRGB(x, y));
        if (Math.abs(p.getRed() - colour.getRed()) <= tolerance
            && Math.abs(p.getGreen() - colour.getGreen()) <= tolerance
            && Math.abs(p.getBlue() - colour.getBlue()) <= tolerance) {
          count++;
        }
      }
    }
    return count;
  }

  @Test
  void everyTagIsOneTokenOfAWordTokenizerGivenTheMarkers() {
    SynthDrive synth = new SynthDrive(CONFIG, 2);
    List<String> markers = new ArrayList<>(WordPreTokenizer.DEFAULT_MARKERS);
    markers.addAll(synth.tagMarkers());
    assertEquals(2 * 16, synth.tagMarkers().size(), "two object numbers x 16 cells");
    WordTokenizer.Builder builder = WordTokenizer.builder().optMarkers(markers);
    List<Question> questions = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      questions.addAll(synth.questions(synth.scene(SynthDrive.Split.TRAIN, i)));
    }
    questions.forEach(q -> builder.addText(q.text()));
    WordTokenizer tokenizer = builder.build();
    for (Question q : questions) {
      for (Cell c : taggedCells(q.text())) {
        for (int n = 1; n <= 2; n++) {
          String tag = c.tag(n, CONFIG);
          if (q.text().contains(tag)) {
            assertEquals(1, tokenizer.encode(tag).length, tag);
          }
        }
      }
    }
  }

  @Test
  void badKnobsAreRefusedWithTheirValues() {
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> CONFIG.withObjects(5, 2));
    assertTrue(e.getMessage().contains("5..2"), e.getMessage());
    e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> CONFIG.withCameras(5));
    assertTrue(e.getMessage().contains("got 5"), e.getMessage());
  }

  /** The cells the question's tags name, in order (front camera). */
  private static List<Cell> taggedCells(String text) {
    List<Cell> cells = new ArrayList<>();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("<c\\d,CAM_FRONT,([0-9.]+),([0-9.]+)>").matcher(text);
    while (m.find()) {
      int column = (int) Math.floor(Double.parseDouble(m.group(1)) * CONFIG.grid());
      int row = (int) Math.floor(Double.parseDouble(m.group(2)) * CONFIG.grid());
      cells.add(new Cell(0, row, column));
    }
    return cells;
  }

  private static String letter(int index) {
    return String.valueOf((char) ('A' + index));
  }
}
