package dev.drivekd.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The reference demo data shipped inside the jar, copied to a file the reader can open. */
final class EmbeddedData {
  static final String FILE_NAME = "drivekd-reference-demo.json";
  static final String DEMO_RESOURCE = "/dev/drivekd/examples/" + FILE_NAME;

  /** Where the shipped SynthDrive teachers lie in the jar (made by demo --train-teachers). */
  static final String TEACHERS_RESOURCE = "/dev/drivekd/examples/synthdrive-teachers/";

  private static final String[] TEACHER_FILES = {
    "teachers.json",
    "tokenizer.json",
    "perception/config.json",
    "perception/model.safetensors",
    "reasoning/config.json",
    "reasoning/model.safetensors",
    "planning/config.json",
    "planning/model.safetensors"
  };

  private EmbeddedData() {}

  /** Whether this jar ships SynthDrive teachers. */
  static boolean hasTeachers() {
    return EmbeddedData.class.getResource(TEACHERS_RESOURCE + TEACHER_FILES[0]) != null;
  }

  /** Copies the shipped SynthDrive teachers into {@code dir} and returns it. */
  static Path teachers(Path dir) {
    try {
      for (String name : TEACHER_FILES) {
        try (InputStream in = EmbeddedData.class.getResourceAsStream(TEACHERS_RESOURCE + name)) {
          if (in == null) {
            throw new IllegalStateException(
                TEACHERS_RESOURCE + name + " missing from the drivekd jar");
          }
          Path file = dir.resolve(name);
          Files.createDirectories(file.getParent());
          Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot unpack the SynthDrive teachers into " + dir, e);
    }
  }

  /** Copies the embedded demo dataset into {@code dir} and returns its path. */
  static Path demoDataset(Path dir) {
    try (InputStream in = EmbeddedData.class.getResourceAsStream(DEMO_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEMO_RESOURCE + " missing from the drivekd jar");
      }
      Path file = dir.resolve(FILE_NAME);
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot unpack the demo dataset into " + dir, e);
    }
  }
}
