package dev.drivekd.core.model;

/**
 * The facts about a model that distillation depends on. Teacher and student must produce the same
 * token sequence for a sample (method.md 1.1, "Sequence lengths"): the same tokenizer and the same
 * number of tokens per image; {@link #requireSameSequences} checks that before training.
 *
 * @param name a human-readable name, for logs and provenance
 * @param depth number of decoder layers {@code N}
 * @param heads query heads per decoder layer
 * @param hiddenSize decoder hidden size
 * @param vocabularySize rows of the LM head
 * @param tokensPerImage vision tokens one image occupies in the sequence
 * @param imageSize the square side, in pixels, images are resized to
 * @param tokenizer identity of the tokenizer (for example a hash of its vocabulary)
 */
public record ModelCard(
    String name,
    int depth,
    int heads,
    int hiddenSize,
    int vocabularySize,
    int tokensPerImage,
    int imageSize,
    String tokenizer) {

  /** Checks that sizes are positive. */
  public ModelCard {
    if (depth < 1 || heads < 1 || hiddenSize < 1 || vocabularySize < 1) {
      throw new IllegalArgumentException("model sizes must be positive: " + name);
    }
    if (tokensPerImage < 0 || imageSize < 0) {
      throw new IllegalArgumentException("image sizes must be >= 0: " + name);
    }
  }

  /**
   * Fails fast when {@code other} would not see the same token sequence as this model: another
   * tokenizer, or another number of tokens per image or image size.
   *
   * @throws IllegalArgumentException naming both models and what differs
   */
  public void requireSameSequences(ModelCard other) {
    String what = null;
    if (!tokenizer.equals(other.tokenizer)) {
      what = "tokenizer " + tokenizer + " vs " + other.tokenizer;
    } else if (tokensPerImage != other.tokensPerImage) {
      what = "tokens per image " + tokensPerImage + " vs " + other.tokensPerImage;
    } else if (imageSize != other.imageSize) {
      what = "image size " + imageSize + " vs " + other.imageSize;
    } else if (vocabularySize != other.vocabularySize) {
      what = "vocabulary size " + vocabularySize + " vs " + other.vocabularySize;
    }
    if (what != null) {
      throw new IllegalArgumentException(
          name
              + " and "
              + other.name
              + " would not see the same token sequence ("
              + what
              + "); teacher and student must share tokenizer and tokens per image");
    }
  }
}
