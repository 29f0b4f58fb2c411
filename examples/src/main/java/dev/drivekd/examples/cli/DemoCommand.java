package dev.drivekd.examples.cli;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.McqAccuracy;
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
 * The main job: Drive-KD end to end on the embedded reference demo data (or a dataset of the
 * user's), with three specialist teachers fine-tuned here, a CE-only student and a Drive-KD student
 * from the same start, and both scored against the teachers ({@link DriveKdDemo}).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "The main job: fine-tune one teacher-small per capability on the demo data, train two"
          + " student-tiny students from one start (cross-entropy only, and Drive-KD from the three"
          + " teachers with the paper's recipe, mixing, dynamic loss weights and AGP), then score"
          + " both: answer cross-entropy and the distance of their attention signals to their"
          + " teachers'.",
      "Without FILE it runs on the seven reference demo samples embedded in the jar; their"
          + " camera images are not distributed, so stand-in frames are drawn in their place."
    })
final class DemoCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "FILE", description = "Dataset JSON file.")
  Path file;

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
          "Epochs of each teacher's fine-tuning on its own samples (default: ${DEFAULT-VALUE}).")
  int teacherEpochs;

  @Option(
      names = "--epochs",
      defaultValue = "40",
      description = "Epochs of each student (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--lr",
      defaultValue = "5e-3",
      description = "Peak learning rate, cosine with 10% warm-up (default: ${DEFAULT-VALUE}).")
  double learningRate;

  @Option(
      names = "--balancer-lr",
      defaultValue = "3e-4",
      description =
          "Learning rate of the dynamic loss weights (default: ${DEFAULT-VALUE}, the paper's).")
  double balancerRate;

  @Option(
      names = "--attention-weight",
      defaultValue = "1",
      description =
          "Static weight of each attention loss, CE's being 1 (default: ${DEFAULT-VALUE}, the"
              + " paper's).")
  double attentionWeight;

  @Option(names = "--seed", defaultValue = "7", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Path run =
        runDir != null
            ? runDir
            : Path.of(
                "runs",
                "demo-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
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
                epochs,
                learningRate,
                balancerRate,
                attentionWeight,
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
