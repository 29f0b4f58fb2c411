package dev.drivekd.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the project's shared folder ({@code ../shared} from the project root) and its golden
 * parity files. Maven runs tests in the module folder, so paths are resolved from the system
 * properties set by the build ({@code drivekd.golden.dir}, {@code drivekd.shared.dir}) or, when a
 * test runs outside Maven, from the project root found by walking up from the working directory.
 */
public final class SharedFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SharedFiles() {}

  /** The golden folder: {@code -Ddrivekd.golden.dir}, else {@code <root>/../shared/golden}. */
  public static Path goldenDir() {
    String property = System.getProperty("drivekd.golden.dir");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    return sharedDir().resolve("golden");
  }

  /** The shared folder: {@code -Ddrivekd.shared.dir}, else {@code <root>/../shared}. */
  public static Path sharedDir() {
    String property = System.getProperty("drivekd.shared.dir");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    return projectRoot().resolve("..").resolve("shared").normalize();
  }

  /** Reads a golden file, which must be a non-empty JSON list of cases. */
  public static JsonNode goldenCases(String fileName) {
    Path file = goldenDir().resolve(fileName);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "Golden file not found: "
              + file
              + " (set -Ddrivekd.golden.dir to the folder holding the reference golden files)");
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

  private static Path projectRoot() {
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
