package dev.drivekd.core.prompt;

import java.util.ArrayList;
import java.util.List;

/**
 * Replaces {@code <image>} placeholders of a question with {@code <image_path>p</image_path>} tags
 * (method.md 6.3, {@code qa_loader._inject_images_into_question}).
 *
 * <p>Each non-empty path, in order, replaces the first remaining placeholder; images beyond the
 * placeholders are dropped. If nothing was injected (no placeholder), all paths are prepended.
 * Placeholders beyond the images stay as literal text. The result reports drops and leftovers so
 * callers can warn instead of losing them silently.
 */
public final class ImagePlaceholders {

  /** The placeholder written in the data. */
  public static final String PLACEHOLDER = "<image>";

  /** Opens an explicit image tag. */
  public static final String PATH_TAG_START = "<image_path>";

  /** Closes an explicit image tag. */
  public static final String PATH_TAG_END = "</image_path>";

  private ImagePlaceholders() {}

  /** Wraps a path in an explicit image tag. */
  public static String tag(String path) {
    return PATH_TAG_START + path + PATH_TAG_END;
  }

  /**
   * Injects image tags.
   *
   * @param question the question with {@code <image>} placeholders
   * @param paths the image paths in order; empty strings are skipped as in the reference
   * @return the tagged question and what happened to images and placeholders
   */
  public static PlaceholderInjection inject(String question, List<String> paths) {
    List<Integer> nonEmpty = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      if (paths.get(i) != null && !paths.get(i).isEmpty()) {
        nonEmpty.add(i);
      }
    }
    if (nonEmpty.isEmpty()) {
      return new PlaceholderInjection(question, List.of(), List.of(), count(question));
    }
    StringBuilder out = new StringBuilder(question);
    List<Integer> used = new ArrayList<>();
    List<Integer> dropped = new ArrayList<>();
    // Search from the start every time, as Python's str.replace(..., 1) does, so that even a path
    // that itself contains "<image>" is handled like the reference.
    for (int k = 0; k < nonEmpty.size(); k++) {
      int at = out.indexOf(PLACEHOLDER);
      if (at < 0) {
        dropped.addAll(nonEmpty.subList(k, nonEmpty.size()));
        break;
      }
      int i = nonEmpty.get(k);
      out.replace(at, at + PLACEHOLDER.length(), tag(paths.get(i)));
      used.add(i);
    }
    String text = out.toString();
    if (!text.contains(PATH_TAG_START)) {
      StringBuilder prefix = new StringBuilder();
      for (int i : nonEmpty) {
        prefix.append(tag(paths.get(i)));
      }
      return new PlaceholderInjection(prefix + text, nonEmpty, List.of(), count(text));
    }
    return new PlaceholderInjection(text, used, dropped, count(text));
  }

  private static int count(String text) {
    int n = 0;
    for (int at = text.indexOf(PLACEHOLDER);
        at >= 0;
        at = text.indexOf(PLACEHOLDER, at + PLACEHOLDER.length())) {
      n++;
    }
    return n;
  }
}
