package dev.drivekd.core.prompt;

import java.util.List;

/**
 * The result of {@link ImagePlaceholders#inject}: the question with {@code
 * <image_path>...</image_path>} tags and what happened to the images and placeholders.
 *
 * @param text the question with image tags
 * @param usedImages positions (in the given path list) of the images that were injected, in order
 * @param droppedImages positions of non-empty images that found no placeholder and were dropped
 * @param leftoverPlaceholders how many {@code <image>} placeholders stay as literal text
 */
public record PlaceholderInjection(
    String text, List<Integer> usedImages, List<Integer> droppedImages, int leftoverPlaceholders) {

  /** Copies the lists. */
  public PlaceholderInjection {
    usedImages = List.copyOf(usedImages);
    droppedImages = List.copyOf(droppedImages);
  }
}
