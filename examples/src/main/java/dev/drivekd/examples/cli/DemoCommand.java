package dev.drivekd.examples.cli;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.McqAccuracy;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import dev.drivekd.examples.ablation.AblationReport;
import dev.drivekd.examples.ablation.AblationVariant;
import dev.drivekd.examples.ablation.HeldOutAblation;
import dev.drivekd.examples.ablation.SynthDriveTeachers;
import dev.drivekd.examples.demo.DriveKdDemo;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The main job. By default the held-out ablation on SynthDrive ({@link HeldOutAblation}): students
 * trained on a small labelled split with CE only, one teacher each, three teachers without
 * projection and Drive-KD, over seeds, scored on a held-out test split. {@code --train-teachers}
 * makes the teachers it uses; {@code --reference-data} (or a FILE) runs the smoke run on a small
 * dataset instead ({@link DriveKdDemo}).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "The main job: the held-out ablation on SynthDrive. Students of one size, one start per"
          + " seed, trained on a small labelled split with the same budget: CE only, each single"
          + " teacher, three teachers without projection, and Drive-KD (three teachers + AGP);"
          + " all scored on held-out test scenes; prints the table and writes report.md,"
          + " report.json and accuracy.png into the run folder.",
      "The teachers come from the jar, from --teachers DIR, or are made with --train-teachers"
          + " DIR (the documented command that made the shipped ones).",
      "--reference-data (or FILE) runs the smoke run instead: one teacher per capability"
          + " fine-tuned on the seven embedded reference samples (or FILE), a CE-only and a"
          + " Drive-KD student scored on those same samples. It shows the machinery, not evidence."
    })
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "FILE",
      description = "Dataset JSON file for the smoke run (implies --reference-data's mode).")
  Path file;

  @Option(
      names = "--reference-data",
      description = "Smoke run on the seven reference demo samples embedded in the jar.")
  boolean referenceData;

  @Option(
      names = "--teachers",
      paramLabel = "DIR",
      description = "SynthDrive teachers made by --train-teachers (default: the jar's).")
  Path teachers;

  @Option(
      names = "--train-teachers",
      paramLabel = "DIR",
      description =
          "Make the three SynthDrive teachers into DIR (a long run: see docs/demo.md) and stop.")
  Path trainTeachers;

  @Option(
      names = "--teacher-steps",
      description = "Optimizer steps of each SynthDrive teacher (default: 2000, batch 32).")
  Integer teacherSteps;

  @Option(
      names = "--seeds",
      defaultValue = "3",
      description = "Seeds of the ablation (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(names = "--quick", description = "A shortened ablation end to end (for CI).")
  boolean quick;

  @Option(
      names = "--variants",
      split = ",",
      paramLabel = "V",
      description =
          "Ablation variants, comma-separated (default: the paper's Table 3: ce_only,"
              + " single_perception, single_reasoning, single_planning, multi_no_projection,"
              + " drive_kd; also drive_kd_g1, drive_kd_g2, drive_kd_refresh_4, _8, _16; or"
              + " amortised_agp: ce_only, multi_no_projection, drive_kd and the three"
              + " drive_kd_refresh_T, the amortised-AGP study).")
  List<String> variants;

  @Option(
      names = "--labelled-scenes",
      description = "Scenes of the labelled split, three questions each (default: 300).")
  Integer labelledScenes;

  @Option(names = "--test-scenes", description = "Scenes of the test split (default: 200).")
  Integer testScenes;

  @Option(
      names = "--stand-in-frames",
      description =
          "Draw a stand-in frame for every image FILE names that is not there (always on for the"
              + " embedded data); without it a missing image is an error.")
  boolean standInFrames;

  @Option(
      names = "--run-dir",
      description = "Run folder (default: runs/demo-<date>-<time> in the working directory).")
  Path runDir;

  @Option(
      names = "--teacher-epochs",
      defaultValue = "150",
      description =
          "Smoke run: epochs of each teacher's fine-tuning on its own samples (default:"
              + " ${DEFAULT-VALUE}).")
  int teacherEpochs;

  @Option(
      names = "--epochs",
      description = "Epochs of each student (default: 2 in the ablation, 40 in the smoke run).")
  Integer epochs;

  @Option(
      names = "--lr",
      description =
          "Peak learning rate, cosine with 10% warm-up (default: 3e-3 in the ablation, 5e-3 in"
              + " the smoke run).")
  Double learningRate;

  @Option(
      names = "--balancer-lr",
      defaultValue = "3e-4",
      description =
          "Learning rate of the dynamic loss weights (default: ${DEFAULT-VALUE}, the paper's).")
  double balancerRate;

  @Option(
      names = "--attention-weight",
      description =
          "Static weight of each attention loss, CE's being 1 (default: 100 in the ablation, 1 in"
              + " the smoke run, the paper's).")
  Double attentionWeight;

  @Option(names = "--seed", defaultValue = "7", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (trainTeachers != null) {
      return makeTeachers();
    }
    if (referenceData || file != null) {
      return smokeRun();
    }
    return ablation();
  }

  private int makeTeachers() throws Exception {
    SynthDriveTeachers.Recipe d = SynthDriveTeachers.Recipe.defaults();
    SynthDriveTeachers.Recipe recipe =
        new SynthDriveTeachers.Recipe(
            d.dataSeed(),
            d.trainScenes(),
            d.preset(),
            d.initializerRange(),
            teacherSteps != null ? teacherSteps : d.steps(),
            d.batchSize(),
            d.learningRate(),
            d.groundingWeight(),
            d.routingWeight(),
            d.seed());
    SynthDriveTeachers.Manifest m =
        SynthDriveTeachers.train(trainTeachers, SynthDriveConfig.defaults(), recipe, System.err);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonOutput.print(
          out, Map.of("teachers", trainTeachers.toAbsolutePath().toString(), "manifest", m));
    } else {
      out.println("teachers made into " + trainTeachers.toAbsolutePath() + ": " + m.seconds());
      out.flush();
    }
    return 0;
  }

  private int ablation() throws Exception {
    List<AblationVariant> chosen =
        variants == null
            ? AblationVariant.TABLE_3
            : variants.equals(List.of("amortised_agp"))
                ? AblationVariant.AMORTISED_AGP
                : variants.stream().map(AblationVariant::ofKey).toList();
    Path run = runDir != null ? runDir : defaultRunDir();
    Path teacherDir = teachers;
    if (teacherDir == null) {
      if (!EmbeddedData.hasTeachers()) {
        throw new IllegalStateException(
            "this jar ships no SynthDrive teachers: make them with `drivekd demo"
                + " --train-teachers DIR` and pass --teachers DIR");
      }
      teacherDir = EmbeddedData.teachers(run.resolve("teachers"));
    }
    HeldOutAblation.Options o =
        HeldOutAblation.Options.defaults(run, teacherDir).withSeeds(seeds).withVariants(chosen);
    if (quick) {
      o = o.quick();
    }
    o =
        new HeldOutAblation.Options(
            o.runDir(),
            o.teachers(),
            o.config(),
            labelledScenes != null ? labelledScenes : o.labelledScenes(),
            testScenes != null ? testScenes : o.testScenes(),
            o.seeds(),
            o.variants(),
            epochs != null ? epochs : o.epochs(),
            o.microBatch(),
            learningRate != null ? learningRate : o.learningRate(),
            attentionWeight != null ? attentionWeight : o.attentionWeight(),
            o.studentPreset());
    HeldOutAblation.Result result = HeldOutAblation.run(o);
    AblationReport.write(run, result, o);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> f = AblationReport.figures(result, o);
      f.put("run_dir", run.toAbsolutePath().toString());
      JsonOutput.print(out, f);
    } else {
      out.println();
      out.printf(
          "Held-out ablation: %d labelled questions, %s held-out multiple-choice questions,"
              + " seeds %s; accuracy %% (mean ± std over seeds):%n%n",
          result.labelled(), result.questions(), o.seeds());
      out.println(AblationReport.table(result));
      out.printf(
          "report: %s (and report.json, accuracy.png); %.0f s%n",
          run.resolve(AblationReport.MARKDOWN_FILE).toAbsolutePath(), result.seconds());
      out.flush();
    }
    return 0;
  }

  private static String percents(HeldOutAblation.Result result) {
    StringBuilder sb = new StringBuilder();
    result
        .teacherAccuracy()
        .forEach(
            (k, v) ->
                sb.append(sb.length() == 0 ? "" : ", ")
                    .append(String.format(java.util.Locale.ROOT, "%s %.1f %%", k, 100 * v)));
    return sb.toString();
  }

  private static Path defaultRunDir() {
    return Path.of(
        "runs",
        "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
  }

  private int smokeRun() throws Exception {
    Path run = runDir != null ? runDir : defaultRunDir();
    Path dataset = file;
    boolean drawMissing = standInFrames;
    if (dataset == null) {
      Path data = run.resolve("data");
      Files.createDirectories(data);
      dataset = EmbeddedData.demoDataset(data);
      drawMissing = true; // the reference demo data's camera images are not distributed
    }
    DriveKdDemo.Result result =
        DriveKdDemo.run(
            new DriveKdDemo.Options(
                dataset,
                drawMissing,
                run,
                teacherEpochs,
                epochs != null ? epochs : 40,
                learningRate != null ? learningRate : 5e-3,
                balancerRate,
                attentionWeight != null ? attentionWeight : 1.0,
                seed));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonOutput.print(out, figures(result, run));
    } else {
      print(out, result, run);
    }
    return 0;
  }

  private static void print(PrintWriter out, DriveKdDemo.Result r, Path run) {
    out.println();
    int total = r.samples().values().stream().mapToInt(Integer::intValue).sum();
    out.printf(
        "Drive-KD demo on %d samples; both students scored on them (lower is better; attention"
            + " gap = the recipe's loss to the teacher of the sample's capability):%n",
        total);
    out.printf(
        "%-11s %8s %18s %18s %22s%n",
        "capability", "samples", "teacher CE", "CE: CE-only|KD", "attention gap: CE-only|KD");
    for (Capability c : Capability.values()) {
      double[] t = r.teacherCe().get(c);
      String teacher = Double.isNaN(t[0]) ? "(loaded)" : String.format("%.3f->%.3f", t[0], t[1]);
      out.printf(
          "%-11s %8d %18s %8.3f|%-8.3f %10.3g|%-10.3g%n",
          c.name().toLowerCase(),
          r.samples().get(c),
          teacher,
          r.plain().meanCrossEntropy(c),
          r.distilled().meanCrossEntropy(c),
          r.plain().meanOwnTeacherLoss(c),
          r.distilled().meanOwnTeacherLoss(c));
    }
    out.printf(
        "training: CE-only %d optimizer steps, Drive-KD %d (%d skipped)%n",
        r.plainRun().optimizerSteps(),
        r.distilledRun().optimizerSteps(),
        r.distilledRun().skippedUpdates());
    out.print(
        "multiple-choice answers right (greedy, by their Final: option | by DriveBench's regex):");
    for (Map.Entry<String, List<McqAccuracy.Item>> e : r.mcq().entrySet()) {
      List<McqAccuracy.Item> items = e.getValue();
      out.printf(
          " %s %d|%d of %d;",
          e.getKey().equals("teacher") ? "teachers" : e.getKey(),
          McqAccuracy.correct(items),
          McqAccuracy.correctByDriveBench(items),
          items.size());
    }
    out.println();
    out.println();
    out.println("question:  " + oneLine(r.question()));
    out.println("reference: " + oneLine(r.reference()));
    out.println("Drive-KD student (greedy): " + oneLine(r.answer()));
    out.println("its teacher (greedy):      " + oneLine(r.teacherAnswer()));
    out.println();
    out.println(
        "run folder: "
            + run.toAbsolutePath()
            + " (teachers/, students/*/checkpoints and metrics.jsonl, "
            + r.plot().getFileName()
            + ")");
    out.flush();
  }

  private static Map<String, Object> figures(DriveKdDemo.Result r, Path run) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("demo", "drive-kd");
    f.put("run_dir", run.toAbsolutePath().toString());
    for (Capability c : Capability.values()) {
      String k = c.name().toLowerCase();
      f.put("samples_" + k, r.samples().get(c));
      f.put("teacher_ce_before_" + k, r.teacherCe().get(c)[0]);
      f.put("teacher_ce_after_" + k, r.teacherCe().get(c)[1]);
      f.put("ce_plain_" + k, r.plain().meanCrossEntropy(c));
      f.put("ce_drivekd_" + k, r.distilled().meanCrossEntropy(c));
      f.put("attention_gap_plain_" + k, r.plain().meanOwnTeacherLoss(c));
      f.put("attention_gap_drivekd_" + k, r.distilled().meanOwnTeacherLoss(c));
    }
    f.put("optimizer_steps_plain", r.plainRun().optimizerSteps());
    f.put("optimizer_steps_drivekd", r.distilledRun().optimizerSteps());
    f.put("skipped_updates_drivekd", r.distilledRun().skippedUpdates());
    for (Map.Entry<String, List<McqAccuracy.Item>> e : r.mcq().entrySet()) {
      String k = e.getKey().replace('-', '_');
      f.put("mcq_items_" + k, e.getValue().size());
      f.put("mcq_correct_" + k, McqAccuracy.correct(e.getValue()));
      f.put("mcq_correct_drivebench_" + k, McqAccuracy.correctByDriveBench(e.getValue()));
    }
    f.put("answer_drivekd", r.answer());
    f.put("answer_teacher", r.teacherAnswer());
    f.put("plot", r.plot().toAbsolutePath().toString());
    return f;
  }

  private static String oneLine(String text) {
    String s = text.replaceAll("\\s+", " ").trim();
    return s.length() > 240 ? s.substring(0, 237) + "..." : s;
  }
}
