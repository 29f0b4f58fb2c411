package dev.drivekd.core.prompt;

import java.util.Objects;

/**
 * A text block of a prompt. It may be empty: the reference emits {@code ""} between back-to-back
 * images, and it tokenises to zero tokens.
 *
 * @param text the text
 * @param lossMask whether the text's tokens are supervised (assistant turn)
 */
public record TextBlock(String text, boolean lossMask) implements ContentBlock {

  /** Checks the text is not null. */
  public TextBlock {
    Objects.requireNonNull(text, "text");
  }
}
