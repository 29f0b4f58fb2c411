package dev.drivekd.core.text;

import java.util.OptionalLong;

/**
 * Turns text into token ids and back. Each text block of a prompt is encoded on its own, with no
 * special token added (method.md 1.1: InternVL3's Qwen2 tokenizer adds no BOS/EOS); chat markers
 * are ordinary text. Teacher and student must share a tokenizer: {@link #identity()} is what the
 * models' {@link dev.drivekd.core.model.ModelCard} records and compares.
 */
public interface Tokenizer {

  /** The ids of {@code text}, no special token added; an empty string gives no id. */
  long[] encode(String text);

  /** The text of {@code ids}, special tokens skipped. */
  String decode(long[] ids);

  /**
   * Number of ids the tokenizer can produce (the models' vocabulary size must be at least this).
   */
  int vocabularySize();

  /** The id written at padding positions. */
  long padId();

  /** The id written at vision-token positions (replaced by image features in the model). */
  long imageTokenId();

  /** The id that ends generation, if the tokenizer has one (for example {@code <|im_end|>}). */
  OptionalLong endOfTurnId();

  /** A stable identity of the vocabulary (for example a SHA-256 of its canonical form). */
  String identity();

  /**
   * The id of text the vocabulary does not hold, for tokenizers that have one (a word vocabulary's
   * {@code <unk>}); empty for byte-level tokenizers, which encode any text.
   */
  default OptionalLong unknownId() {
    return OptionalLong.empty();
  }
}
