package dev.drivekd.core.prompt;

/**
 * The InternVL/Qwen2 chat markers used by the reference ({@code markers.py}). There is no system
 * prompt.
 */
public final class ChatMarkers {

  /** Opens an image: the text block before every image block. */
  public static final String IMG_START = "<img>";

  /** Closes an image: the text block after every image block. */
  public static final String IMG_END = "</img>";

  /** Opens the user turn. */
  public static final String USER_START = "<|im_start|>user\n";

  /** Opens the assistant turn; alone it is the generation prompt of open-ended mode. */
  public static final String ASSISTANT_START = "<|im_start|>assistant\n";

  /** Closes a turn (followed by a newline). */
  public static final String TURN_END = "<|im_end|>";

  private ChatMarkers() {}

  /** {@code "<|im_start|>user\n" + text + "<|im_end|>\n"}. */
  public static String user(String text) {
    return USER_START + text + TURN_END + "\n";
  }

  /** {@code "<|im_start|>assistant\n" + text + "<|im_end|>\n"}. */
  public static String assistant(String text) {
    return ASSISTANT_START + text + TURN_END + "\n";
  }
}
