package dev.drivekd.core.data;

import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.PromptBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One driving question-answer record, validated and ready for prompting.
 *
 * @param recordIndex the record's position in the JSON list (0-based)
 * @param sourceFile the dataset file
 * @param question the question as extracted, with its {@code <image>} placeholders
 * @param answer the answer
 * @param taggedQuestion the question with {@code <image_path>} tags in place of placeholders
 * @param capability the capability (teacher) this sample trains
 * @param type how the capability was assigned, including the raw question type
 * @param images the images the prompt uses, in prompt order, resolved under the data root
 */
public record DrivingSample(
    int recordIndex,
    Path sourceFile,
    String question,
    String answer,
    String taggedQuestion,
    Capability capability,
    TypeAssignment type,
    List<ImageReference> images) {

  /** Checks non-null fields and copies the image list. */
  public DrivingSample {
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(taggedQuestion, "taggedQuestion");
    Objects.requireNonNull(capability, "capability");
    Objects.requireNonNull(type, "type");
    images = List.copyOf(images);
  }

  /** The resolved image paths, in prompt order. */
  public List<Path> imagePaths() {
    return images.stream().map(ImageReference::resolvedPath).toList();
  }

  /** The raw question type as written ({@code str()}-ed), or null when absent or null. */
  public String rawQuestionType() {
    return type.rawType();
  }

  /** The training blocks: user turn (loss mask false) then assistant turn (true). */
  public List<ContentBlock> trainingPrompt() {
    return PromptBuilder.training(taggedQuestion, answer);
  }

  /** The open-ended (generation) blocks, all with loss mask false. */
  public List<ContentBlock> openEndedPrompt() {
    return PromptBuilder.openEnded(taggedQuestion);
  }
}
