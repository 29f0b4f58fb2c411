package dev.drivekd.core.data;

import java.nio.file.Path;

/**
 * A tolerated oddity in a dataset file that the reader logged and kept, such as surplus {@code
 * <image>} placeholders or dropped surplus images (method.md 8, item 18).
 *
 * @param file the dataset file
 * @param recordIndex the record's position in the JSON list, or -1 for the whole file
 * @param field the field concerned, or null
 * @param message what happened
 */
public record DatasetWarning(Path file, int recordIndex, String field, String message) {

  @Override
  public String toString() {
    return DatasetException.location(file, recordIndex, field) + ": " + message;
  }
}
