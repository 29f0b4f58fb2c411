package dev.drivekd.core.model;

import java.util.List;

/**
 * One prompt as token positions, before padding and before any image is read (method.md 1.1).
 *
 * @param ids token ids; vision positions hold the tokenizer's image token id
 * @param labels the id where the position is supervised, else {@code -100}
 * @param isImage true at vision positions
 * @param imagePaths the image paths (as written in the blocks) whose positions were kept, in order
 * @param droppedTokens positions removed from the left by truncation (0 when none)
 * @param droppedImages images removed from the left by truncation (0 when none)
 */
public record EncodedPrompt(
    long[] ids,
    long[] labels,
    boolean[] isImage,
    List<String> imagePaths,
    int droppedTokens,
    int droppedImages) {

  /** Checks that the arrays agree and copies the path list. */
  public EncodedPrompt {
    if (ids.length != labels.length || ids.length != isImage.length) {
      throw new IllegalArgumentException(
          "ids, labels and isImage must have one entry per position: "
              + ids.length
              + ", "
              + labels.length
              + ", "
              + isImage.length);
    }
    imagePaths = List.copyOf(imagePaths);
  }

  /** The number of positions. */
  public int length() {
    return ids.length;
  }

  /** The number of supervised positions (label not {@code -100}). */
  public int supervisedCount() {
    int n = 0;
    for (long label : labels) {
      n += label != -100L ? 1 : 0;
    }
    return n;
  }
}
