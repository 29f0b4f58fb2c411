package dev.drivekd.spark;

import dev.drivekd.examples.cli.DriveKdCommand;
import dev.drivekd.examples.recipe.SynthDriveRecipes;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
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
    return SynthDriveRecipes.write(
        data.resolve(name + ".yaml"),
        data.resolve("runs").resolve(name),
        data,
        data.resolve("cache-" + name),
        List.of(teachers));
  }
}
