package dev.drivekd.examples.cli;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DatasetWarning;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.data.UnknownTypePolicy;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.ImageBlock;
import dev.drivekd.core.prompt.TextBlock;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code drivekd data ...}: work with datasets in the reference JSON format. */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Read datasets in the reference JSON format.",
    subcommands = {DataCommand.Inspect.class})
final class DataCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code drivekd data inspect}: per sample, its capability and the student's content blocks. */
  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description =
          "Read a dataset and show each sample's capability and the content blocks the student"
              + " sees. Without FILE, the embedded reference demo data (text only).")
  static final class Inspect implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "Dataset JSON file.")
    Path file;

    @Option(names = "--root", description = "Folder images are resolved against (default: FILE's).")
    Path root;

    @Option(names = "--text-only", description = "Do not require the image files to exist.")
    boolean textOnly;

    @Option(
        names = "--on-unknown-type",
        defaultValue = "error",
        description = "error, or the capability unknown question types fall back to.")
    String onUnknownType;

    @Option(names = "--json", description = "Print the figures as one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      Path dataset = file;
      Path tempDir = null;
      boolean text = textOnly;
      if (dataset == null) {
        tempDir = Files.createTempDirectory("drivekd-demo");
        dataset = EmbeddedData.demoDataset(tempDir);
        text = true; // the demo's camera images are not distributed
      }
      try {
        DrivingDatasetReader.Builder reader =
            DrivingDatasetReader.builder()
                .optUnknownTypePolicy(UnknownTypePolicy.parse(onUnknownType))
                .optImageCheckPolicy(
                    text ? ImageCheckPolicy.TEXT_ONLY : ImageCheckPolicy.REQUIRE_READABLE);
        if (root != null) {
          reader.optDataRoot(root);
        }
        DrivingDataset data = reader.build().read(dataset);
        report(spec.commandLine().getOut(), data, file == null ? "embedded demo" : file.toString());
        return 0;
      } finally {
        if (tempDir != null) {
          Files.deleteIfExists(tempDir.resolve(EmbeddedData.FILE_NAME));
          Files.deleteIfExists(tempDir);
        }
      }
    }

    private void report(PrintWriter out, DrivingDataset data, String name) {
      Map<String, Object> figures = summary(data, name);
      if (json) {
        JsonOutput.print(out, figures);
        return;
      }
      out.printf("%s: %d samples%n", name, data.size());
      for (Capability c : Capability.values()) {
        out.printf("  %-10s %d%n", c.key(), data.count(c));
      }
      out.printf("  unknown types mapped by fallback: %d%n", data.unknownCount());
      for (DrivingSample s : data.samples()) {
        List<ContentBlock> blocks = s.trainingPrompt();
        long images = blocks.stream().filter(b -> b instanceof ImageBlock).count();
        out.printf(
            "record %d  %-10s images %d  blocks %d  supervised chars %d%n",
            s.recordIndex(), s.capability().key(), images, blocks.size(), supervisedChars(blocks));
      }
      for (DatasetWarning w : data.warnings()) {
        out.println("warning: " + w);
      }
      out.flush();
    }

    private static Map<String, Object> summary(DrivingDataset data, String name) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("dataset", name);
      m.put("samples", data.size());
      Map<String, Integer> counts = new LinkedHashMap<>();
      for (Capability c : Capability.values()) {
        counts.put(c.key(), data.count(c));
      }
      m.put("counts", counts);
      m.put("unknown_count", data.unknownCount());
      List<Map<String, Object>> samples = new ArrayList<>();
      for (DrivingSample s : data.samples()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("record", s.recordIndex());
        row.put("capability", s.capability().key());
        row.put("images", s.images().size());
        row.put("blocks", s.trainingPrompt().size());
        row.put("supervised_chars", supervisedChars(s.trainingPrompt()));
        samples.add(row);
      }
      m.put("records", samples);
      m.put("warnings", data.warnings().stream().map(DatasetWarning::toString).toList());
      return m;
    }

    private static int supervisedChars(List<ContentBlock> blocks) {
      int n = 0;
      for (ContentBlock b : blocks) {
        if (b instanceof TextBlock t && t.lossMask()) {
          n += t.text().length();
        }
      }
      return n;
    }
  }
}
