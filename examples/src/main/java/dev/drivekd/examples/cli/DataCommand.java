package dev.drivekd.examples.cli;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.data.DatasetWarning;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.data.ImageReference;
import dev.drivekd.core.data.UnknownTypePolicy;
import dev.drivekd.core.image.ImageDecoder;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code drivekd data ...}: work with datasets in the reference JSON format. */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Read datasets in the reference JSON format.",
    subcommands = {DataCommand.Inspect.class, DataCommand.Check.class})
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

    @Mixin ReaderOptions reader;

    @Option(names = "--text-only", description = "Do not require the image files to exist.")
    boolean textOnly;

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
        DrivingDatasetReader.Builder builder =
            DrivingDatasetReader.builder()
                .optUnknownTypePolicy(UnknownTypePolicy.parse(reader.onUnknownType))
                .optLenientImageEntries(reader.lenientImages)
                .optImageCheckPolicy(
                    text ? ImageCheckPolicy.TEXT_ONLY : ImageCheckPolicy.REQUIRE_READABLE);
        if (reader.root != null) {
          builder.optDataRoot(reader.root);
        }
        DrivingDataset data = builder.build().read(dataset);
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

  /**
   * {@code drivekd data check}: reads the whole dataset, decodes every image, and lists every
   * problem; exit 0 when clean, 1 when it found problems (2 on usage errors).
   */
  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Read every record of a dataset and decode every image it names; print the counts per"
            + " capability and every problem with its file, record and field.",
        "Exit status: 0 clean, 1 problems found, 2 usage error."
      })
  static final class Check implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "Dataset JSON file.")
    Path file;

    @Mixin ReaderOptions reader;

    @Option(names = "--json", description = "Print the findings as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
      DrivingDatasetReader.Builder builder =
          DrivingDatasetReader.builder()
              .optUnknownTypePolicy(UnknownTypePolicy.parse(reader.onUnknownType))
              .optLenientImageEntries(reader.lenientImages);
      if (reader.root != null) {
        builder.optDataRoot(reader.root);
      }
      DrivingDatasetReader.Check check = builder.build().check(file);
      List<String> problems = new ArrayList<>();
      check.problems().forEach(p -> problems.add(p.getMessage()));
      Map<String, Integer> perCapability = new LinkedHashMap<>();
      for (Capability c : Capability.values()) {
        perCapability.put(c.key(), 0);
      }
      java.util.Set<Path> decoded = new java.util.HashSet<>();
      int images = 0;
      for (DrivingSample sample : check.samples()) {
        perCapability.merge(sample.capability().key(), 1, Integer::sum);
        for (ImageReference image : sample.images()) {
          images++;
          if (decoded.add(image.resolvedPath())) {
            try {
              ImageDecoder.read(image.resolvedPath());
            } catch (RuntimeException e) {
              decoded.remove(image.resolvedPath());
              problems.add(
                  DatasetException.forField(
                          file,
                          sample.recordIndex(),
                          image.field(),
                          "cannot decode " + image.resolvedPath() + ": " + e.getMessage())
                      .getMessage());
            }
          }
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("file", file.toString());
        f.put("records", check.records());
        f.put("samples", check.samples().size());
        f.put("per_capability", perCapability);
        f.put("images", images);
        f.put("distinct_images_decoded", decoded.size());
        f.put("problems", problems);
        f.put("warnings", check.warnings().stream().map(Object::toString).toList());
        JsonOutput.print(out, f);
      } else {
        out.printf(
            "%s: %d records, %d read cleanly (%s), %d images (%d files decoded)%n",
            file,
            check.records(),
            check.samples().size(),
            perCapability.toString().replace("{", "").replace("}", "").replace("=", " "),
            images,
            decoded.size());
        check.warnings().forEach(w -> out.println("warning: " + w));
        problems.forEach(p -> out.println("problem: " + p));
        out.println(problems.isEmpty() ? "clean" : problems.size() + " problem(s)");
        out.flush();
      }
      return problems.isEmpty() ? 0 : 1;
    }
  }

  /** How both subcommands read a dataset: the image root and the unknown-type policy. */
  static final class ReaderOptions {
    @Option(names = "--root", description = "Folder images are resolved against (default: FILE's).")
    Path root;

    @Option(
        names = "--on-unknown-type",
        defaultValue = "error",
        description = "error, or the capability unknown question types fall back to.")
    String onUnknownType;

    @Option(
        names = "--lenient-images",
        description =
            "Skip malformed image entries (an \"images\" value that is not a list, an entry that"
                + " is not a non-empty string) with a warning, as the reference does, instead of"
                + " failing on them.")
    boolean lenientImages;
  }
}
