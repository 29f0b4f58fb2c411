package dev.drivekd.core.data;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Bad input in a driving dataset file. The message and the getters name the file, the record index
 * (position in the JSON list, 0-based) and the field where they apply, and say what was expected,
 * for example {@code data.json: record 3, field "images[1]": image file not found}.
 */
public class DatasetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final int recordIndex;
  private final String field;
  private final String problem;

  /**
   * Creates an exception for one record and field.
   *
   * @param file the dataset file
   * @param recordIndex the record's position in the JSON list, or -1 for the whole file
   * @param field the field, such as {@code images[1]}, or null
   * @param problem what is wrong and what was expected
   * @param cause the underlying exception, or null
   */
  public DatasetException(
      Path file, int recordIndex, String field, String problem, Throwable cause) {
    super(format(file, recordIndex, field, problem), cause);
    this.file = file;
    this.recordIndex = recordIndex;
    this.field = field;
    this.problem = problem;
  }

  /** Creates an exception about the whole file, such as malformed JSON. */
  public static DatasetException forFile(Path file, String problem, Throwable cause) {
    return new DatasetException(file, -1, null, problem, cause);
  }

  /** Creates an exception about one field of one record. */
  public static DatasetException forField(
      Path file, int recordIndex, String field, String problem) {
    return new DatasetException(file, recordIndex, field, problem, null);
  }

  /** The dataset file. */
  public Path file() {
    return file;
  }

  /** The record's position in the JSON list, empty when the whole file is at fault. */
  public OptionalInt recordIndex() {
    return recordIndex < 0 ? OptionalInt.empty() : OptionalInt.of(recordIndex);
  }

  /** The field, such as {@code question_type} or {@code images[1]}, when one is at fault. */
  public Optional<String> field() {
    return Optional.ofNullable(field);
  }

  /** What is wrong and what was expected, without the location prefix. */
  public String problem() {
    return problem;
  }

  static String location(Path file, int recordIndex, String field) {
    StringBuilder sb = new StringBuilder(String.valueOf(file));
    if (recordIndex >= 0) {
      sb.append(": record ").append(recordIndex);
    }
    if (field != null) {
      sb.append(recordIndex >= 0 ? ", " : ": ").append("field \"").append(field).append('"');
    }
    return sb.toString();
  }

  private static String format(Path file, int recordIndex, String field, String problem) {
    return location(file, recordIndex, field) + ": " + problem;
  }
}
