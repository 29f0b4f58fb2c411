package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.core.prompt.ChatMarkers;
import dev.drivekd.core.prompt.ImagePlaceholders;
import dev.drivekd.core.prompt.PlaceholderInjection;
import dev.drivekd.core.prompt.PromptBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds one {@link DrivingSample} from a raw record: question and answer, image placeholders, then
 * validation of every image path the prompt will load, in prompt order.
 */
final class SampleParser {

  private static final Logger logger = LoggerFactory.getLogger(SampleParser.class);

  private final Path file;
  private final ImagePathResolver resolver;
  private final Consumer<DatasetWarning> warnings;
  private final boolean lenientImageEntries;

  SampleParser(
      Path file,
      ImagePathResolver resolver,
      Consumer<DatasetWarning> warnings,
      boolean lenientImageEntries) {
    this.file = file;
    this.resolver = resolver;
    this.warnings = warnings;
    this.lenientImageEntries = lenientImageEntries;
  }

  DrivingSample parse(JsonNode item, int recordIndex, TypeAssignment type) {
    QuestionAnswerExtractor.Extracted qa = QuestionAnswerExtractor.extract(item, file, recordIndex);
    List<String> paths = new ArrayList<>();
    List<String> pathFields = new ArrayList<>();
    collectImagePaths(item.get("images"), recordIndex, paths, pathFields);

    PlaceholderInjection injection = ImagePlaceholders.inject(qa.question(), paths);
    for (int dropped : injection.droppedImages()) {
      warn(
          recordIndex,
          pathFields.get(dropped),
          "no <image> placeholder left for this image, dropped ("
              + paths.size()
              + " images, "
              + injection.usedImages().size()
              + " injected)");
    }
    if (injection.leftoverPlaceholders() > 0) {
      warn(
          recordIndex,
          qa.questionField(),
          injection.leftoverPlaceholders()
              + " <image> placeholder(s) have no image and stay as literal text ("
              + paths.size()
              + " images)");
    }

    List<ImageReference> images = new ArrayList<>();
    List<Integer> used = injection.usedImages();
    int next = 0;
    List<String> questionImages =
        PromptBuilder.imagePaths(PromptBuilder.resolve(ChatMarkers.user(injection.text()), false));
    for (String path : questionImages) {
      // Injected images appear in the text in injection order; anything else came from a tag
      // written literally in the question.
      if (next < used.size() && paths.get(used.get(next)).equals(path)) {
        images.add(resolver.resolve(path, file, recordIndex, pathFields.get(used.get(next))));
        next++;
      } else {
        images.add(literalTagImage(path, recordIndex, qa.questionField()));
      }
    }
    List<String> answerImages =
        PromptBuilder.imagePaths(PromptBuilder.resolve(ChatMarkers.assistant(qa.answer()), true));
    for (String path : answerImages) {
      images.add(literalTagImage(path, recordIndex, qa.answerField()));
    }
    return new DrivingSample(
        recordIndex,
        file,
        qa.question(),
        qa.answer(),
        injection.text(),
        type.capability(),
        type,
        images);
  }

  private ImageReference literalTagImage(String path, int recordIndex, String field) {
    warn(
        recordIndex,
        field,
        "the text contains a literal image tag; \"" + path + "\" is used as an image path");
    return resolver.resolve(path, file, recordIndex, field);
  }

  private void collectImagePaths(
      JsonNode images, int recordIndex, List<String> paths, List<String> fields) {
    if (images == null || images.isNull()) {
      return;
    }
    if (!images.isArray()) {
      // the reference ignores a non-list "images" value; drivekd does so only when told to
      malformed(
          recordIndex,
          "images",
          "expected a list of image paths, found " + QuestionAnswerExtractor.describe(images),
          "ignored");
      return;
    }
    for (int k = 0; k < images.size(); k++) {
      JsonNode entry = images.get(k);
      if (entry.isTextual() && !entry.textValue().isEmpty()) {
        paths.add(entry.textValue());
        fields.add("images[" + k + "]");
      } else {
        malformed(
            recordIndex,
            "images[" + k + "]",
            "expected a non-empty path string, found "
                + (entry.isTextual() ? "an empty string" : QuestionAnswerExtractor.describe(entry)),
            "skipped");
      }
    }
  }

  /** An error, or with lenient image entries a warning that says what was done instead. */
  private void malformed(int recordIndex, String field, String problem, String lenientAction) {
    if (!lenientImageEntries) {
      throw DatasetException.forField(
          file,
          recordIndex,
          field,
          problem + " (a lenient reader, optLenientImageEntries, would skip it with a warning)");
    }
    warn(recordIndex, field, problem + "; " + lenientAction);
  }

  private void warn(int recordIndex, String field, String message) {
    DatasetWarning warning = new DatasetWarning(file, recordIndex, field, message);
    logger.warn("{}", warning);
    warnings.accept(warning);
  }
}
