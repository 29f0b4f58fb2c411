package dev.drivekd.eval.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes a report into a fresh folder all at once: files go to a temporary sibling folder, which is
 * renamed to the target when everything is written. A target that exists is refused (one line
 * naming it), and a failure leaves no half-written report behind.
 */
public final class ReportFolder {

  /** What fills the folder. */
  @FunctionalInterface
  public interface Contents {
    /** Writes the report's files into {@code dir}. */
    void writeTo(Path dir) throws IOException;
  }

  private ReportFolder() {}

  /**
   * Writes {@code contents} to {@code target}.
   *
   * @throws IllegalArgumentException when {@code target} exists
   * @throws UncheckedIOException when writing fails (nothing is left at {@code target})
   */
  public static Path write(Path target, Contents contents) {
    Path dir = target.toAbsolutePath().normalize();
    if (Files.exists(dir)) {
      throw new IllegalArgumentException(
          "report folder " + dir + " already exists: choose another or remove it");
    }
    Path tmp = null;
    try {
      Files.createDirectories(dir.getParent());
      tmp = Files.createTempDirectory(dir.getParent(), "." + dir.getFileName() + ".");
      contents.writeTo(tmp);
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        throw new IllegalArgumentException(
            "report folder " + dir + " appeared while the report was written", e);
      }
      tmp = null;
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the report to " + dir + ": " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        delete(tmp);
      }
    }
  }

  private static void delete(Path tmp) {
    try (Stream<Path> walk = Files.walk(tmp)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: the temporary folder's name starts with a dot
    }
  }
}
