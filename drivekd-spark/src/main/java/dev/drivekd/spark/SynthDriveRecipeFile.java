package dev.drivekd.spark;

import dev.drivekd.examples.cli.DriveKdCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/** SynthDrive data with the shipped teachers, and a recipe over it: the job's worked example. */
final class SynthDriveRecipeFile {

  private SynthDriveRecipeFile() {}

  /** {@code drivekd generate --split labelled --scenes N --with-teachers} into {@code dir}. */
  static void generate(Path dir, int scenes) {
    StringWriter err = new StringWriter();
    CommandLine cli = DriveKdCommand.newCommandLine();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int status =
        cli.execute(
            "generate",
            "--out",
            dir.toString(),
            "--split",
            "labelled",
            "--scenes",
            String.valueOf(scenes),
            "--with-teachers");
    if (status != 0) {
      throw new IllegalStateException("generate failed (" + status + "): " + err);
    }
  }

  /**
   * Writes {@code data/<name>.yaml}: student-tiny over {@code data}'s labelled split, the named
   * teachers of {@code data/teachers}, the cache folder {@code data/cache-<name>}.
   */
  static Path write(Path data, String name, String... teachers) throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("seed: 5\n")
        .append("output: ")
        .append(data.resolve("runs").resolve(name))
        .append('\n')
        .append("data: {file: ")
        .append(data.resolve("labelled.json"))
        .append("}\n")
        .append("tokenizer: {kind: word, path: ")
        .append(data.resolve("tokenizer.json"))
        .append("}\n")
        .append("student: {preset: student-tiny, init: fan_in, seed: 1}\n")
        .append("teachers:\n")
        .append("  cache: ")
        .append(data.resolve("cache-" + name))
        .append('\n');
    for (String t : teachers) {
      yaml.append("  ")
          .append(t)
          .append(": {folder: ")
          .append(data.resolve("teachers").resolve(t))
          .append("}\n");
    }
    Path f = data.resolve(name + ".yaml");
    Files.writeString(f, yaml.toString());
    return f;
  }
}
