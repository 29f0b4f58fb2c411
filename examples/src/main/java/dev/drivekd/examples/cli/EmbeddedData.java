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

  private EmbeddedData() {}

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
