package dev.drivekd.core.text;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A tokenizer file that cannot be read or is invalid. The message names the file and, where one is
 * at fault, the field, for example {@code vocab.json: field "vocabulary[7]": duplicate token "car"
 * (also at index 4)}.
 */
public class TokenizerFormatException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String field;

  /**
   * Creates an exception.
   *
   * @param file the tokenizer file
   * @param field the field at fault, or null for the whole file
   * @param problem what is wrong and what was expected
   * @param cause the underlying exception, or null
   */
  public TokenizerFormatException(Path file, String field, String problem, Throwable cause) {
    super(file + (field == null ? "" : ": field \"" + field + "\"") + ": " + problem, cause);
    this.file = file;
    this.field = field;
  }

  /** The tokenizer file. */
  public Path file() {
    return file;
  }

  /** The field at fault, if any. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }
}
