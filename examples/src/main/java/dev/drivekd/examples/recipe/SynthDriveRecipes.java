package dev.drivekd.examples.recipe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Recipe files over the data {@code drivekd generate --split labelled --with-teachers} writes:
 * student-tiny, the word tokenizer and the named capability teachers of {@code data/teachers}. The
 * campaigns, benchmarks and the Spark job's example use them.
 */
public final class SynthDriveRecipes {

  private SynthDriveRecipes() {}

  /**
   * Writes {@code file}: seed 5, run folder {@code output}, the labelled split of {@code data}, its
   * tokenizer, student-tiny (fan-in initialisation, seed 1), {@code teachers.cache} when {@code
   * cache} is not null, each named teacher's folder, then {@code extra} lines as given.
   */
  public static Path write(
      Path file, Path output, Path data, Path cache, List<String> teachers, String... extra)
      throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("seed: 5\n")
        .append("output: ")
        .append(output)
        .append('\n')
        .append("data: {file: ")
        .append(data.resolve("labelled.json"))
        .append("}\n")
        .append("tokenizer: {kind: word, path: ")
        .append(data.resolve("tokenizer.json"))
        .append("}\n")
        .append("student: {preset: student-tiny, init: fan_in, seed: 1}\n")
        .append("teachers:\n");
    if (cache != null) {
      yaml.append("  cache: ").append(cache).append('\n');
    }
    for (String t : teachers) {
      yaml.append("  ")
          .append(t)
          .append(": {folder: ")
          .append(data.resolve("teachers").resolve(t))
          .append("}\n");
    }
    for (String line : extra) {
      yaml.append(line).append('\n');
    }
    Files.writeString(file, yaml.toString());
    return file;
  }
}
