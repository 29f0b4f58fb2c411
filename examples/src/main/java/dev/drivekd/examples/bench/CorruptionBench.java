package dev.drivekd.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code drivekd bench corruption}: every file a run reads, damaged, and what drivekd does. */
@Command(
    name = "corruption",
    mixinStandardHelpOptions = true,
    description =
        "Truncates, bit-flips and empties each file of a short run (checkpoint parts, the latest"
            + " pointer, the student's weights and configuration, teacher-cache chunks and index,"
            + " the tokenizer, the dataset), one at a time on a fresh copy, and prints what"
            + " drivekd did with it: refused (naming the file or not), fell back to the previous"
            + " checkpoint, or loaded it.")
public final class CorruptionBench implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Override
  @SuppressWarnings("unchecked")
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path work = Files.createTempDirectory("drivekd-bench-corruption");
    try {
      Map<String, Object> f =
          new CorruptionCampaign(
                  line -> {
                    err.println("[bench] " + line);
                    err.flush();
                  })
              .run(work);
      if (json) {
        out.println(
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(f));
      } else {
        out.println("| artifact | file | damage | outcome | message names the file |");
        out.println("|---|---|---|---|---|");
        for (Map<String, Object> row : (List<Map<String, Object>>) f.get("cases")) {
          out.printf(
              "| %s | `%s` | %s | %s | %s |%n",
              row.get("artifact"),
              row.get("file"),
              row.get("damage"),
              row.get("outcome"),
              "refused".equals(row.get("outcome"))
                  ? ((Boolean) row.get("names_file") ? "yes" : "no")
                  : "");
        }
        out.printf(
            "%s cases, %s caught; refusals naming the file: %s of %s; undetected: %s%n",
            f.get("cases_tried"),
            f.get("cases_caught"),
            f.get("refusals_naming_the_file"),
            f.get("refusals"),
            f.get("undetected"));
      }
      out.flush();
      return 0;
    } finally {
      BenchSupport.deleteRecursively(work);
    }
  }
}
