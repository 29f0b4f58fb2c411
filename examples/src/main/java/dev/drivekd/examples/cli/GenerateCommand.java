package dev.drivekd.examples.cli;

import dev.drivekd.eval.synthdrive.SynthDrive;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import dev.drivekd.examples.ablation.SynthDriveTeachers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code drivekd generate}: SynthDrive data in the training format, with the word tokenizer and
 * (optionally) the three teachers shipped in the jar, so that a recipe has everything it names.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Write SynthDrive scenes (synthetic driving: camera images, one question per capability,"
          + " answers computed from the scene) in the training format: <split>.json and images/,"
          + " with tokenizer.json (the shipped teachers' vocabulary) and, with --with-teachers,"
          + " teachers/<capability>/ (the shipped teachers). Splits never share a scene; the seed"
          + " is the shipped teachers' unless --seed says otherwise."
    })
final class GenerateCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--out", required = true, description = "The folder to write (created).")
  Path out;

  @Option(
      names = "--split",
      converter = SplitName.class,
      split = ",",
      defaultValue = "labelled,test",
      description = "Splits to write: train, labelled, val, test (default: ${DEFAULT-VALUE}).")
  List<SynthDrive.Split> splits;

  @Option(
      names = "--scenes",
      defaultValue = "100",
      description = "Scenes per split, three questions each (default: ${DEFAULT-VALUE}).")
  int scenes;

  @Option(names = "--seed", description = "The data seed (default: the shipped teachers').")
  Long seed;

  @Option(names = "--with-teachers", description = "Also copy the shipped teachers into teachers/.")
  boolean withTeachers;

  @Option(names = "--json", description = "Print what was written as one JSON object.")
  boolean json;

  /** A split by its lower-case name. */
  static final class SplitName implements CommandLine.ITypeConverter<SynthDrive.Split> {
    @Override
    public SynthDrive.Split convert(String value) {
      for (SynthDrive.Split s : SynthDrive.Split.values()) {
        if (s.key().equalsIgnoreCase(value.strip())) {
          return s;
        }
      }
      throw new CommandLine.TypeConversionException(
          "\"" + value + "\" is not one of train, labelled, val, test");
    }
  }

  @Override
  public Integer call() throws Exception {
    if (scenes < 1) {
      throw new IllegalArgumentException("--scenes must be >= 1, got " + scenes);
    }
    if (Files.exists(out.resolve("tokenizer.json"))) {
      throw new IllegalArgumentException(
          out.toAbsolutePath() + " holds generated data already: choose another --out");
    }
    if (!EmbeddedData.hasTeachers()) {
      throw new IllegalStateException(
          "this jar ships no SynthDrive teachers (their tokenizer and seed)");
    }
    SynthDriveConfig config = SynthDriveConfig.defaults();
    Path shipped = EmbeddedData.teachers(Files.createTempDirectory("drivekd-teachers"));
    SynthDriveTeachers.Manifest manifest = SynthDriveTeachers.manifest(shipped, config);
    long dataSeed = seed != null ? seed : manifest.recipe().dataSeed();
    SynthDrive synth = new SynthDrive(config, dataSeed);
    Files.createDirectories(out);
    Map<String, Object> f = new LinkedHashMap<>();
    for (SynthDrive.Split split : splits) {
      Path file = synth.write(out, split, scenes);
      f.put(split.key(), file.toAbsolutePath().toString());
    }
    Files.copy(shipped.resolve(SynthDriveTeachers.TOKENIZER), out.resolve("tokenizer.json"));
    if (withTeachers) {
      EmbeddedData.teachers(out.resolve("teachers"));
      Files.deleteIfExists(out.resolve("teachers").resolve(SynthDriveTeachers.TOKENIZER));
      f.put("teachers", out.resolve("teachers").toAbsolutePath().toString());
    }
    f.put("tokenizer", out.resolve("tokenizer.json").toAbsolutePath().toString());
    f.put("scenes", scenes);
    f.put("seed", dataSeed);
    if (json) {
      JsonOutput.print(spec.commandLine().getOut(), f);
    } else {
      spec.commandLine().getOut().printf("SynthDrive data written to %s%n", out.toAbsolutePath());
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
