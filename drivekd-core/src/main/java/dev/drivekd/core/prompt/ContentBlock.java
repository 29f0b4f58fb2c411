package dev.drivekd.core.prompt;

/**
 * One block of a student prompt: text to tokenise or an image to encode. Blocks of the user turn
 * have loss mask false and blocks of the assistant turn true; image blocks never produce labels.
 */
public sealed interface ContentBlock permits TextBlock, ImageBlock {

  /** The label of positions excluded from the cross-entropy loss. */
  int IGNORE_LABEL = -100;

  /** Whether this block belongs to the supervised (assistant) part of the prompt. */
  boolean lossMask();

  /** A text block. */
  static TextBlock text(String text, boolean lossMask) {
    return new TextBlock(text, lossMask);
  }

  /** An image block. */
  static ImageBlock image(String path, boolean lossMask) {
    return new ImageBlock(path, lossMask);
  }
}
