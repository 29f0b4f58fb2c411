package dev.drivekd.core.attention;

/**
 * A run of consecutive tokens of one kind in a sequence: prompt text, supervised answer text or the
 * tokens of one image. Sequences are described as ordered lists of segments (method.md 1.1).
 *
 * @param kind text or image
 * @param length number of tokens, at least 0 (an empty text block gives 0 tokens)
 * @param supervised whether the tokens carry labels (answer tokens); never true for images
 */
public record TokenSegment(Kind kind, int length, boolean supervised) {

  /** What a segment's tokens are. */
  public enum Kind {
    /** Text tokens (template, markers, question or answer). */
    TEXT,
    /** Vision tokens of one image. */
    IMAGE
  }

  /** Checks the invariants of a segment. */
  public TokenSegment {
    if (kind == null) {
      throw new IllegalArgumentException("segment kind must not be null");
    }
    if (length < 0) {
      throw new IllegalArgumentException("segment length must be >= 0, got " + length);
    }
    if (kind == Kind.IMAGE && supervised) {
      throw new IllegalArgumentException("image tokens cannot be supervised (their label is -100)");
    }
  }

  /** Unsupervised text tokens (prompt, template, markers). */
  public static TokenSegment text(int length) {
    return new TokenSegment(Kind.TEXT, length, false);
  }

  /** Supervised text tokens (the assistant answer block). */
  public static TokenSegment answer(int length) {
    return new TokenSegment(Kind.TEXT, length, true);
  }

  /** Vision tokens of one image (256 for an InternVL3 448 px tile). */
  public static TokenSegment image(int length) {
    return new TokenSegment(Kind.IMAGE, length, false);
  }
}
