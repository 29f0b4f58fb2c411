package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DriveKdCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Exit status, standard output and standard error of one command line. */
  record Run(int status, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = DriveKdCommand.newCommandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int status = cli.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void versionNamesDrivekdDjlAndLibtorch() {
    Run r = run("--version");
    assertEquals(0, r.status());
    assertTrue(r.out().startsWith("drivekd 0.1.0"), r.out());
    assertTrue(r.out().contains("DJL 0.36.0, libtorch 2.7.1"), r.out());
  }

  @Test
  void helpListsTheSubcommands() {
    Run r = run("--help");
    assertEquals(0, r.status());
    for (String sub : new String[] {"demo", "data", "bench"}) {
      assertTrue(r.out().contains(sub), sub + " missing from " + r.out());
    }
  }

  @Test
  void demoTrainsTeachersAndBothStudentsOnTheEmbeddedData(@TempDir Path dir) throws Exception {
    Path runDir = dir.resolve("run");
    Run r =
        run(
            "demo",
            "--reference-data",
            "--run-dir",
            runDir.toString(),
            "--teacher-epochs",
            "2",
            "--epochs",
            "2",
            "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertEquals(2, f.get("samples_perception").asInt());
    assertEquals(2, f.get("samples_reasoning").asInt());
    assertEquals(3, f.get("samples_planning").asInt());
    for (String c : new String[] {"perception", "reasoning", "planning"}) {
      double before = f.get("teacher_ce_before_" + c).asDouble();
      double after = f.get("teacher_ce_after_" + c).asDouble();
      assertTrue(after < before, c + " teacher CE " + before + " -> " + after);
      // below the uniform CE of the 512-row LM head (ln 512 = 6.24), where the students start
      assertTrue(f.get("ce_plain_" + c).asDouble() < 5.7, c);
      assertTrue(f.get("ce_drivekd_" + c).asDouble() < 5.7, c);
      // the demo's claim: distillation leaves the student closer to its teachers' attention
      // (CPU training is deterministic, so this is the same comparison on every run)
      double plain = f.get("attention_gap_plain_" + c).asDouble();
      double distilled = f.get("attention_gap_drivekd_" + c).asDouble();
      assertTrue(distilled > 0 && distilled < plain, c + ": " + distilled + " vs CE-only " + plain);
    }
    assertEquals(14, f.get("optimizer_steps_plain").asInt(), "2 epochs x 7 samples");
    assertEquals(14, f.get("optimizer_steps_drivekd").asInt());
    assertEquals(0, f.get("skipped_updates_drivekd").asInt());
    // two multiple-choice samples (records 0 and 3), each answered by its teacher and both students
    assertEquals(2, f.get("mcq_items_teacher").asInt());
    assertEquals(2, f.get("mcq_items_ce_only").asInt());
    assertEquals(2, f.get("mcq_items_drive_kd").asInt());
    // 27 stand-in frames for the images the reference data names (1 + 6 + 6 + 6 + 1 + 6 + 1)
    try (var files = Files.walk(runDir.resolve("data"))) {
      assertEquals(27, files.filter(p -> p.toString().endsWith(".jpg")).count());
    }
    var plot = javax.imageio.ImageIO.read(runDir.resolve("losses.png").toFile());
    assertEquals(2 * 560, plot.getWidth(), "two XChart panels side by side");
    for (String name : new String[] {"perception", "reasoning", "planning"}) {
      assertTrue(
          Files.exists(runDir.resolve("teachers").resolve(name).resolve("model.safetensors")));
    }
    assertTrue(Files.exists(runDir.resolve("students/drive-kd/metrics.jsonl")));

    // the same folder again: refused before anything is trained, nothing lost
    Run again = run("demo", "--reference-data", "--run-dir", runDir.toString(), "--epochs", "1");
    assertEquals(2, again.status());
    assertTrue(again.err().contains("already holds trained students"), again.err());
    assertTrue(Files.exists(runDir.resolve("students/drive-kd/metrics.jsonl")));
  }

  @Test
  void anUnknownAblationVariantIsRefusedBeforeAnythingIsWritten(@TempDir Path dir) {
    Path runDir = dir.resolve("run");
    Run r = run("demo", "--variants", "ce_only,drive_kd_g3", "--run-dir", runDir.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("unknown ablation variant 'drive_kd_g3'"), r.err());
    assertTrue(r.err().contains("drive_kd_g1, drive_kd_g2"), r.err());
    assertTrue(!Files.exists(runDir), "nothing unpacked or generated");
  }

  @Test
  void demoOnAUsersFileReportsAMissingImageUnlessAskedForStandIns(@TempDir Path dir)
      throws Exception {
    Path data = dir.resolve("d.json");
    Files.writeString(
        data,
        "[{\"question\": \"<image>Go?\", \"answer\": \"Yes.\", \"images\": [\"a.jpg\"],"
            + " \"question_type\": \"planning\"}]");
    Run r = run("demo", data.toString(), "--run-dir", dir.resolve("run").toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("d.json"), r.err());
    assertTrue(r.err().contains("record 0"), r.err());
    assertTrue(r.err().contains("images[0]"), r.err());
    assertTrue(!Files.exists(dir.resolve("a.jpg")), "nothing drawn without --stand-in-frames");
  }

  @Test
  void inspectReadsTheEmbeddedDemoData() throws Exception {
    Run r = run("data", "inspect", "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode figures = JSON.readTree(r.out());
    assertEquals(7, figures.get("samples").asInt());
    assertEquals(2, figures.get("counts").get("perception").asInt());
    assertEquals(2, figures.get("counts").get("reasoning").asInt());
    assertEquals(3, figures.get("counts").get("planning").asInt());
    assertEquals(6, figures.get("records").get(1).get("images").asInt());
  }

  @Test
  void aMissingImageIsReportedWithFileRecordAndField(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("d.json");
    Files.writeString(
        data,
        "[{\"question\": \"<image>Go?\", \"answer\": \"Yes.\", \"images\": [\"a.jpg\"],"
            + " \"question_type\": \"planning\"}]");
    Run r = run("data", "inspect", data.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().contains("d.json"), r.err());
    assertTrue(r.err().contains("record 0"), r.err());
    assertTrue(r.err().contains("images[0]"), r.err());
    assertEquals(0, run("data", "inspect", "--text-only", data.toString()).status());
  }

  @Test
  void gradprojBenchPrintsItsFiguresAsJson() throws Exception {
    Run r =
        run(
            "bench",
            "gradproj",
            "--sizes",
            "20000,40000",
            "--tensors",
            "12",
            "--repeats",
            "3",
            "--reference-max",
            "20000",
            "--in-process",
            "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode f = JSON.readTree(r.out());
    assertEquals(1, f.get("host_syncs_per_combine").asInt());
    assertTrue(f.get("ratio_to_plain_sum_20k").asDouble() > 0);
    assertTrue(f.get("ratio_to_plain_sum_40k").asDouble() > 0);
    assertTrue(f.get("speedup_vs_reference_style_20k").asDouble() > 0);
    assertTrue(f.has("extra_param_sized_buffers"));
    JsonNode first = f.get("sizes").get(0);
    assertEquals(20000, first.get("parameters").asLong());
    assertEquals(12, first.get("tensors").asInt());
    // the reference style reads one dot product per tensor: 12 tensors x tests > 12 reads
    assertTrue(first.get("reference_style_host_syncs_per_combine").asLong() > 12);
  }
}
