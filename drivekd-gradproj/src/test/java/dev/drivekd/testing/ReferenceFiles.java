package dev.drivekd.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the repository's {@code reference/} folder: the golden parity files computed by running
 * the reference implementation ({@code reference/golden}, see its README) and the reference's own
 * sample data ({@code reference/data}). Maven runs tests in the module folder, so the build passes
 * the project root ({@code drivekd.project.dir}); a test run outside Maven walks up from the
 * working directory. {@code -Ddrivekd.golden.dir} points the golden tests at another set.
 */
public final class ReferenceFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReferenceFiles() {}

  /** The golden folder: {@code -Ddrivekd.golden.dir}, else {@code <root>/reference/golden}. */
  public static Path goldenDir() {
    String property = System.getProperty("drivekd.golden.dir");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    return projectRoot().resolve("reference").resolve("golden");
  }

  /** A file of the reference's sample data, {@code <root>/reference/data/<name>}. */
  public static Path dataFile(String name) {
    Path file = projectRoot().resolve("reference").resolve("data").resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("Reference data file not found: " + file);
    }
    return file;
  }

  /** Reads a golden file, which must be a non-empty JSON list of cases. */
  public static JsonNode goldenCases(String fileName) {
    Path file = goldenDir().resolve(fileName);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "Golden file not found: "
              + file
              + " (-Ddrivekd.golden.dir names the folder holding the reference golden files)");
    }
    try {
      JsonNode root = JSON.readTree(file.toFile());
      if (!root.isArray() || root.isEmpty()) {
        throw new IllegalStateException(
            "Golden file " + file + " is not a non-empty list of cases");
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read golden file " + file, e);
    }
  }

  /**
   * The project root: {@code -Ddrivekd.project.dir}, else the first folder up with the root POM.
   */
  public static Path projectRoot() {
    String property = System.getProperty("drivekd.project.dir");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path pom = p.resolve("pom.xml");
      try {
        if (Files.isRegularFile(pom)
            && Files.readString(pom).contains("<module>drivekd-core</module>")) {
          return p;
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException("Cannot find the drivekd project root above " + dir);
  }
}
