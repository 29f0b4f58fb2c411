package dev.drivekd.eval.synthdrive;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * SynthDrive: seeded synthetic driving scenes with questions per capability, written in the
 * reference JSON format (messages, images, {@code question_type}) with PNG camera images, so that
 * every drivekd reader, trainer and score runs on it unchanged.
 *
 * <p>Splits come from disjoint scene seeds: scene {@code i} of split {@code s} is drawn from the
 * seed derived from ({@code seed}, {@code s}, {@code i}), so the train, labelled, val and test
 * splits never share a scene, and one split of one seed is the same on every machine.
 *
 * <pre>{@code
 * SynthDrive synth = new SynthDrive(SynthDriveConfig.defaults(), 7);
 * Path test = synth.write(dir, SynthDrive.Split.TEST, 500);   // dir/test.json + dir/images/test/
 * }</pre>
 */
public final class SynthDrive {

  /** A split; each draws its scenes from its own seeds. */
  public enum Split {
    /** The teachers' training scenes. */
    TRAIN,
    /** The students' labelled scenes (few). */
    LABELLED,
    /** Scenes for choosing settings. */
    VAL,
    /** Held-out scenes, scored once. */
    TEST;

    /** The split's name in file names, e.g. {@code test}. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final SynthDriveConfig config;
  private final long seed;
  private final SceneGenerator scenes;
  private final SceneRenderer renderer;
  private final QuestionWriter questions;

  /** The generator of {@code config} and {@code seed}. */
  public SynthDrive(SynthDriveConfig config, long seed) {
    this.config = config;
    this.seed = seed;
    this.scenes = new SceneGenerator(config);
    this.renderer = new SceneRenderer(config);
    this.questions = new QuestionWriter(config);
  }

  /** The settings. */
  public SynthDriveConfig config() {
    return config;
  }

  /** Scene {@code index} of {@code split}. */
  public Scene scene(Split split, int index) {
    String id = String.format(Locale.ROOT, "%s-%06d", split.key(), index);
    return scenes.generate(id, sceneSeed(split, index));
  }

  /** The scene's camera images, front first. */
  public List<BufferedImage> images(Scene scene) {
    return renderer.render(scene);
  }

  /** The scene's questions, one per capability. */
  public List<Question> questions(Scene scene) {
    return questions.questions(scene);
  }

  /**
   * Writes {@code count} scenes of {@code split} into {@code dir}: {@code <split>.json} with one
   * record per question (three per scene) and {@code images/<split>/<scene>_<CAMERA>.png}, plus
   * {@code <split>.synthdrive.json} with the generator's fingerprint, seed and counts.
   *
   * @return the dataset file
   */
  public Path write(Path dir, Split split, int count) {
    if (count < 1) {
      throw new IllegalArgumentException("a split needs at least one scene, got " + count);
    }
    try {
      Path imageDir = dir.resolve("images").resolve(split.key());
      Files.createDirectories(imageDir);
      ArrayNode records = JSON.createArrayNode();
      for (int i = 0; i < count; i++) {
        Scene scene = scene(split, i);
        List<BufferedImage> images = images(scene);
        List<String> paths = new ArrayList<>();
        for (int c = 0; c < images.size(); c++) {
          String name = scene.id() + "_" + config.cameraNames().get(c) + ".png";
          ImageIO.write(images.get(c), "png", imageDir.resolve(name).toFile());
          paths.add("images/" + split.key() + "/" + name);
        }
        for (Question q : questions(scene)) {
          records.add(record(scene, q, paths));
        }
      }
      Path file = dir.resolve(split.key() + ".json");
      Files.writeString(file, JSON.writeValueAsString(records), StandardCharsets.UTF_8);
      ObjectNode info = JSON.createObjectNode();
      info.put("generator", config.fingerprint());
      info.put("seed", seed);
      info.put("split", split.key());
      info.put("scenes", count);
      info.put("records", records.size());
      Files.writeString(
          dir.resolve(split.key() + ".synthdrive.json"),
          JSON.writeValueAsString(info),
          StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write SynthDrive split " + split.key() + " into " + dir, e);
    }
  }

  private ObjectNode record(Scene scene, Question q, List<String> images) {
    ObjectNode item = JSON.createObjectNode();
    ArrayNode messages = item.putArray("messages");
    String placeholders = "<image>".repeat(images.size());
    messages.addObject().put("role", "user").put("content", placeholders + q.text());
    messages.addObject().put("role", "assistant").put("content", q.answer());
    ArrayNode paths = item.putArray("images");
    images.forEach(paths::add);
    item.put("question_type", q.capability().key());
    ObjectNode about = item.putObject("synthdrive");
    about.put("scene", scene.id());
    about.put("type", q.type());
    q.correct().ifPresent(letter -> about.put("answer_option", String.valueOf(letter)));
    return item;
  }

  /**
   * Every object tag a question can contain, for a word tokenizer to keep whole (one token per
   * tagged cell, as the model's vision tokens are one per cell).
   */
  public List<String> tagMarkers() {
    return List.copyOf(tagCells().keySet());
  }

  /**
   * Every object tag a question can contain, to the index of the vision token it names among a
   * sample's vision tokens: camera {@code c}'s image comes {@code c}-th, its cells row by row.
   */
  public Map<String, Integer> tagCells() {
    Map<String, Integer> tags = new LinkedHashMap<>();
    int perImage = config.grid() * config.grid();
    for (int object = 1; object <= 2; object++) {
      for (int camera = 0; camera < config.cameras(); camera++) {
        for (int row = 0; row < config.grid(); row++) {
          for (int column = 0; column < config.grid(); column++) {
            String tag = new Cell(camera, row, column).tag(object, config);
            tags.put(tag, camera * perImage + row * config.grid() + column);
          }
        }
      }
    }
    return tags;
  }

  /** The seed of scene {@code index} of {@code split}: a SplitMix64 mix of seed, split, index. */
  long sceneSeed(Split split, int index) {
    long z = seed * 0x9E3779B97F4A7C15L + (split.ordinal() + 1L) * 0xBF58476D1CE4E5B9L + index;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
