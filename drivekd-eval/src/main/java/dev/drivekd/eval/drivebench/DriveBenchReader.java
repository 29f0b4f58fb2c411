package dev.drivekd.eval.drivebench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.data.ImagePathResolver;
import dev.drivekd.core.data.ImageReference;
import dev.drivekd.core.data.TypeAssignment;
import dev.drivekd.core.prompt.ImagePlaceholders;
import dev.drivekd.core.prompt.PlaceholderInjection;
import dev.drivekd.eval.EvalItem;
import dev.drivekd.eval.QuestionForm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads DriveBench's published question file ({@code drivebench-test.json} or the preprocessed
 * {@code drivebench-test-final.json}) into {@link EvalItem}s, mapped onto Drive-KD's capabilities.
 *
 * <p>The file is a JSON list of records with {@code scene_token}, {@code frame_token}, {@code
 * question_type}, {@code question}, {@code answer}, {@code tag} (a list with one integer) and
 * {@code image_path} (camera name to a path relative to the data root). Question type and tag
 * decide capability and form, as DriveBench's evaluator routes them:
 *
 * <table>
 *   <caption>DriveBench question kinds</caption>
 *   <tr><th>question_type</th><th>tag</th><th>form</th><th>capability</th></tr>
 *   <tr><td>perception</td><td>0</td><td>multiple choice</td><td>perception</td></tr>
 *   <tr><td>perception</td><td>2</td><td>open</td><td>perception</td></tr>
 *   <tr><td>prediction</td><td>3</td><td>open</td><td>reasoning</td></tr>
 *   <tr><td>prediction</td><td>0</td><td>yes/no (DriveBench does not judge it)</td><td>reasoning</td></tr>
 *   <tr><td>behavior</td><td>0</td><td>multiple choice</td><td>reasoning</td></tr>
 *   <tr><td>planning</td><td>1</td><td>open</td><td>planning</td></tr>
 * </table>
 *
 * <p>The prompt puts one image per camera first, each after its camera's name, in the file's order,
 * then the question. An optional {@code visual_description.json} (DriveBench's) supplies the judge
 * with the description of the object a question's first tag names. Every problem is a {@link
 * DatasetException} naming file, record and field, as the training reader's are; image paths obey
 * the same confinement to the data root.
 */
public final class DriveBenchReader {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OBJECT_TAG = Pattern.compile("<(c\\d+),(CAM_[A-Z_]+),[^>]*>");

  private final Path dataRoot;
  private final ImageCheckPolicy imageCheck;
  private final Path descriptions;

  /**
   * A reader.
   *
   * @param dataRoot the folder image paths are relative to (DriveBench: the toolkit's root)
   * @param imageCheck whether image files must exist and be readable
   * @param descriptions DriveBench's {@code visual_description.json}, or null
   */
  public DriveBenchReader(Path dataRoot, ImageCheckPolicy imageCheck, Path descriptions) {
    this.dataRoot = dataRoot;
    this.imageCheck = imageCheck;
    this.descriptions = descriptions;
  }

  /**
   * The items of one DriveBench file.
   *
   * @throws DatasetException naming file, record and field on any problem
   */
  public List<EvalItem> read(Path file) {
    JsonNode root = parse(file);
    if (root == null || !root.isArray()) {
      throw DatasetException.forFile(file, "expected a JSON list of DriveBench records", null);
    }
    if (root.isEmpty()) {
      throw DatasetException.forFile(file, "no records: expected at least one", null);
    }
    Map<String, Map<String, String>> objects =
        descriptions == null ? Map.of() : readDescriptions(descriptions);
    ImagePathResolver resolver =
        new ImagePathResolver(
            dataRoot != null ? dataRoot : file.toAbsolutePath().getParent(), imageCheck);
    Map<String, Integer> perFrame = new HashMap<>();
    List<EvalItem> items = new ArrayList<>(root.size());
    for (int i = 0; i < root.size(); i++) {
      JsonNode r = root.get(i);
      if (!r.isObject()) {
        throw DatasetException.forField(file, i, null, "expected a JSON object");
      }
      String scene = text(r, "scene_token", file, i, false);
      String frame = text(r, "frame_token", file, i, false);
      String type = text(r, "question_type", file, i, false).toLowerCase(Locale.ROOT);
      String question = text(r, "question", file, i, false);
      String answer = text(r, "answer", file, i, true);
      int tag = tag(r, file, i);
      Kind kind = kind(type, tag, file, i);
      List<String> cameras = new ArrayList<>();
      List<ImageReference> images = new ArrayList<>();
      JsonNode paths = r.get("image_path");
      if (paths == null || !paths.isObject()) {
        throw DatasetException.forField(
            file, i, "image_path", "expected an object of camera name to image path");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String field = "image_path." + e.getKey();
        if (!e.getValue().isTextual()) {
          throw DatasetException.forField(file, i, field, "expected a path string");
        }
        cameras.add(e.getKey());
        images.add(resolver.resolve(e.getValue().asText(), file, i, field));
      }
      StringBuilder prompt = new StringBuilder();
      for (String camera : cameras) {
        prompt.append(camera).append(": ").append(ImagePlaceholders.PLACEHOLDER).append('\n');
      }
      prompt.append(question);
      PlaceholderInjection injected =
          ImagePlaceholders.inject(
              prompt.toString(), images.stream().map(ImageReference::rawPath).toList());
      DrivingSample sample =
          new DrivingSample(
              i,
              file,
              prompt.toString(),
              answer,
              injected.text(),
              kind.capability,
              new TypeAssignment(kind.capability, "question_type", type, false),
              images);
      int ordinal = perFrame.merge(frame, 1, Integer::sum) - 1;
      items.add(
          new EvalItem(
              frame + "/" + ordinal,
              sample,
              type,
              kind.form,
              description(objects, scene, frame, question)));
    }
    return items;
  }

  private record Kind(Capability capability, QuestionForm form) {}

  private static Kind kind(String type, int tag, Path file, int i) {
    Kind kind =
        switch (type + ":" + tag) {
          case "perception:0" -> new Kind(Capability.PERCEPTION, QuestionForm.MULTIPLE_CHOICE);
          case "perception:2" -> new Kind(Capability.PERCEPTION, QuestionForm.OPEN);
          case "prediction:3" -> new Kind(Capability.REASONING, QuestionForm.OPEN);
          case "prediction:0" -> new Kind(Capability.REASONING, QuestionForm.YES_NO);
          case "behavior:0" -> new Kind(Capability.REASONING, QuestionForm.MULTIPLE_CHOICE);
          case "planning:1" -> new Kind(Capability.PLANNING, QuestionForm.OPEN);
          default -> null;
        };
    if (kind != null) {
      return kind;
    }
    if (List.of("perception", "prediction", "behavior", "planning").contains(type)) {
      throw DatasetException.forField(
          file,
          i,
          "tag",
          "tag "
              + tag
              + " is not a "
              + type
              + " question kind (perception: 0 or 2, prediction: 0 or 3, behavior: 0,"
              + " planning: 1)");
    }
    throw DatasetException.forField(
        file,
        i,
        "question_type",
        "\""
            + type
            + "\" is not one of perception, prediction, behavior, planning"
            + ("robust_qas".equals(type)
                ? " (the corruption files' robust_qas questions are not scored, as in DriveBench)"
                : ""));
  }

  private static int tag(JsonNode r, Path file, int i) {
    JsonNode tag = r.get("tag");
    if (tag == null || !tag.isArray() || tag.isEmpty() || !tag.get(0).canConvertToInt()) {
      throw DatasetException.forField(file, i, "tag", "expected a list holding one integer");
    }
    if (tag.size() > 1) {
      throw DatasetException.forField(
          file, i, "tag", "expected one tag, found " + tag.size() + ": " + tag);
    }
    return tag.get(0).asInt();
  }

  private static String text(JsonNode r, String field, Path file, int i, boolean mayBeEmpty) {
    JsonNode v = r.get(field);
    if (v == null || !v.isTextual()) {
      throw DatasetException.forField(
          file, i, field, v == null ? "missing" : "expected a string, found " + v.getNodeType());
    }
    if (!mayBeEmpty && v.asText().isBlank()) {
      throw DatasetException.forField(file, i, field, "is empty");
    }
    return v.asText();
  }

  private static JsonNode parse(Path file) {
    try {
      return JSON.readTree(Files.newBufferedReader(file));
    } catch (JsonProcessingException e) {
      throw DatasetException.forFile(file, "malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw DatasetException.forFile(file, "cannot read the file: " + e, e);
    }
  }

  /** scene/frame key to (object key {@code cN,CAM} to description). */
  private static Map<String, Map<String, String>> readDescriptions(Path file) {
    JsonNode root = parse(file);
    if (root == null || !root.isObject()) {
      throw DatasetException.forFile(file, "expected an object keyed by scene token", null);
    }
    Map<String, Map<String, String>> out = new HashMap<>();
    root.fields()
        .forEachRemaining(
            scene ->
                scene
                    .getValue()
                    .path("key_frames")
                    .fields()
                    .forEachRemaining(
                        frame -> {
                          Map<String, String> objects = new HashMap<>();
                          frame
                              .getValue()
                              .path("key_object_infos")
                              .fields()
                              .forEachRemaining(
                                  o -> {
                                    Matcher m = OBJECT_TAG.matcher(o.getKey());
                                    String d = o.getValue().path("Visual_description").asText("");
                                    if (m.find() && !d.isBlank()) {
                                      objects.put(m.group(1) + "," + m.group(2), d);
                                    }
                                  });
                          out.put(scene.getKey() + "/" + frame.getKey(), objects);
                        }));
    return out;
  }

  private static String description(
      Map<String, Map<String, String>> objects, String scene, String frame, String question) {
    Matcher m = OBJECT_TAG.matcher(question);
    if (!m.find()) {
      return null;
    }
    String d =
        objects.getOrDefault(scene + "/" + frame, Map.of()).get(m.group(1) + "," + m.group(2));
    return d == null ? null : d.toLowerCase(Locale.ROOT);
  }
}
