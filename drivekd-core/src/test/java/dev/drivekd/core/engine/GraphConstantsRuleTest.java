package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The library's sources make no graph constant with DJL's {@code x.mul(2f)} family: such a constant
 * lives in a Java buffer that the garbage collector frees while autograd still holds it (the
 * trainer's nondeterminism of session 2, see docs/training.md). {@link Scalars} makes them in
 * libtorch's memory instead ({@code add} and {@code sub} save nothing for backward and are not
 * checked). A line that provably builds no graph (an optimizer update, a mask) may say so with
 * {@code // no graph}. This catches literal and cast arguments; the trainer's garbage-collector
 * test catches the rest on the paths it runs.
 */
class GraphConstantsRuleTest {

  private static final Pattern NUMBER_ARGUMENT =
      Pattern.compile(
          "\\.(mul|div|maximum|minimum|pow)\\(\\s*(\\(float\\)|\\(double\\)|-?[0-9]"
              + "|Float\\.|Double\\.)");

  @Test
  void libraryCodeMakesNoGraphConstantFromAJavaNumber() throws IOException {
    Path root = Path.of(System.getProperty("drivekd.project.dir", ".."));
    List<String> offenders = new ArrayList<>();
    int files = 0;
    try (Stream<Path> modules = Files.list(root)) {
      for (Path module :
          modules.filter(p -> p.getFileName().toString().startsWith("drivekd-")).toList()) {
        Path sources = module.resolve("src/main/java");
        if (!Files.isDirectory(sources)) {
          continue;
        }
        try (Stream<Path> walk = Files.walk(sources)) {
          for (Path file : walk.filter(p -> p.toString().endsWith(".java")).toList()) {
            files++;
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
              String line = lines.get(i).trim();
              boolean comment = line.startsWith("*") || line.startsWith("//");
              if (!comment
                  && !line.contains("// no graph")
                  && NUMBER_ARGUMENT.matcher(line).find()) {
                offenders.add(root.relativize(file) + ":" + (i + 1) + ": " + line);
              }
            }
          }
        }
      }
    }
    assertTrue(files > 50, "the library's sources were not found under " + root);
    assertTrue(
        offenders.isEmpty(),
        "use Scalars.mul/div/maximum (or mark a line that builds no graph with // no graph):\n"
            + String.join("\n", offenders));
  }
}
