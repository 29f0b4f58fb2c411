package dev.drivekd.core.prompt;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a tagged question and an answer into the content blocks the student sees (method.md
 * 6.3-6.4): the user turn with loss mask false, then the assistant turn with loss mask true, or for
 * generation the user turn plus {@code "<|im_start|>assistant\n"}, all masks false.
 *
 * <p>Each image becomes {@code text_i, "<img>", IMAGE(path_i), "</img>"} and the text after the
 * last image closes the turn. Unlike the reference, {@code text_i} is the text actually between the
 * tags: the reference's {@code content_split[i]} leaks image paths into the prompt for multi-image
 * samples (method.md 8, item 1); there is deliberately no way to reproduce that.
 */
public final class PromptBuilder {

  // UNIX_LINES: like Python's '.', only '\n' ends a line, so a path with '\r' or U+2028 still
  // matches as it does in the reference.
  private static final Pattern PATH_TAG =
      Pattern.compile("<image_path>(.*?)</image_path>", Pattern.UNIX_LINES);
  private static final Pattern IMG_TAG = Pattern.compile("(<img>.*?</img>)", Pattern.UNIX_LINES);

  private PromptBuilder() {}

  /**
   * The training blocks: {@code resolve(user(question), false)} then {@code
   * resolve(assistant(answer), true)}.
   *
   * @param taggedQuestion the question with {@code <image_path>} tags (see {@link
   *     ImagePlaceholders#inject})
   * @param answer the answer
   */
  public static List<ContentBlock> training(String taggedQuestion, String answer) {
    List<ContentBlock> blocks = new ArrayList<>(resolve(ChatMarkers.user(taggedQuestion), false));
    blocks.addAll(resolve(ChatMarkers.assistant(answer), true));
    return List.copyOf(blocks);
  }

  /** The open-ended (generation) blocks: {@code resolve(user(question) + assistant start)}. */
  public static List<ContentBlock> openEnded(String taggedQuestion) {
    return resolve(ChatMarkers.user(taggedQuestion) + ChatMarkers.ASSISTANT_START, false);
  }

  /**
   * Splits text at its image tags into blocks, all with the given loss mask. Explicit {@code
   * <image_path>p</image_path>} tags win; only if there are none, each literal {@code
   * <img>...</img>} is taken whole as an image path, as the reference's fallback branch does.
   */
  public static List<ContentBlock> resolve(String text, boolean lossMask) {
    Matcher matcher = PATH_TAG.matcher(text);
    if (!matcher.find()) {
      matcher = IMG_TAG.matcher(text);
      if (!matcher.find()) {
        return List.of(new TextBlock(text, lossMask));
      }
    }
    List<ContentBlock> blocks = new ArrayList<>();
    int textStart = 0;
    do {
      blocks.add(new TextBlock(text.substring(textStart, matcher.start()), lossMask));
      blocks.add(new TextBlock(ChatMarkers.IMG_START, lossMask));
      blocks.add(new ImageBlock(matcher.group(1), lossMask));
      blocks.add(new TextBlock(ChatMarkers.IMG_END, lossMask));
      textStart = matcher.end();
    } while (matcher.find());
    blocks.add(new TextBlock(text.substring(textStart), lossMask));
    return List.copyOf(blocks);
  }

  /** The image paths of the blocks, in order. */
  public static List<String> imagePaths(List<ContentBlock> blocks) {
    List<String> paths = new ArrayList<>();
    for (ContentBlock block : blocks) {
      if (block instanceof ImageBlock) {
        paths.add(((ImageBlock) block).path());
      }
    }
    return List.copyOf(paths);
  }
}
