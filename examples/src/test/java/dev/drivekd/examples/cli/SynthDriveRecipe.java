package dev.drivekd.examples.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Recipe files over data made by {@code drivekd generate --with-teachers}, for the CLI tests. */
final class SynthDriveRecipe {

  private SynthDriveRecipe() {}

  /**
   * Writes {@code dir/<name>.yaml}: student-tiny from the generated data, the given teachers, run
   * folder {@code dir/runs/<name>}, and {@code extra} lines (training, weights, checkpoints...).
   */
  static Path write(Path dir, Path data, String name, List<String> teachers, String... extra)
      throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("seed: 5\n")
        .append("output: ")
        .append(dir.resolve("runs").resolve(name))
        .append('\n')
        .append("data: {file: ")
        .append(data)
        .append("/labelled.json}\n")
        .append("tokenizer: {kind: word, path: ")
        .append(data)
        .append("/tokenizer.json}\n")
        .append("student: {preset: student-tiny, init: fan_in, seed: 1}\n")
        .append("teachers:\n");
    for (String t : teachers) {
      yaml.append("  ")
          .append(t)
          .append(": {folder: ")
          .append(data)
          .append("/teachers/")
          .append(t)
          .append("}\n");
    }
    for (String line : extra) {
      yaml.append(line).append('\n');
    }
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, yaml.toString());
    return f;
  }
}
