package dev.drivekd.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code drivekd eval}: the shipped teachers on held-out SynthDrive scenes, and its bad input. */
class EvalCommandTest {

  @TempDir Path dir;

  @Test
  void scoresTheShippedTeachersOnHeldOutScenesAndWritesTheReport() throws Exception {
    Path out = dir.resolve("report");
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run(
            "eval",
            "--scenes",
            "2",
            "--bootstrap",
            "200",
            "--cache",
            dir.resolve("cache").toString(),
            "--out",
            out.toString(),
            "--layer-study",
            "reasoning-teacher",
            "--heatmap",
            "perception-teacher,planning-teacher",
            "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode report = new ObjectMapper().readTree(r.out());
    assertEquals(out.toString(), report.get("report").asText());
    assertEquals(3, report.get("models").size());
    assertEquals("perception-teacher", report.at("/models/0/model").asText());
    // each teacher is best on its own capability's multiple-choice questions
    for (String capability : new String[] {"perception", "reasoning", "planning"}) {
      JsonNode models = report.get("models");
      int best = -1;
      double bestValue = -1;
      for (int m = 0; m < 3; m++) {
        double v = models.get(m).at("/scores/mcq_accuracy/" + capability + "/value").asDouble();
        if (v > bestValue) {
          bestValue = v;
          best = m;
        }
      }
      assertEquals(capability + "-teacher", models.get(best).get("model").asText(), capability);
    }
    assertTrue(ImageIO.read(out.resolve("mcq_accuracy.png").toFile()) != null);
    assertTrue(Files.exists(out.resolve("layer-study/layer-study.json")));
    assertTrue(ImageIO.read(out.resolve("heatmap/heatmap.png").toFile()) != null);

    // a rerun reuses every answer; the report folder exists: refused in one line
    DriveKdCommandTest.Run again =
        DriveKdCommandTest.run(
            "eval",
            "--scenes",
            "2",
            "--cache",
            dir.resolve("cache").toString(),
            "--out",
            out.toString());
    assertEquals(2, again.status());
    assertTrue(again.err().contains("already exists"), again.err());
    assertEquals(1, again.err().strip().lines().count(), again.err());
  }

  @Test
  void badInputIsOneLineAndExitTwo() throws Exception {
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run("eval", "--data", dir.resolve("x.json").toString());
    assertEquals(2, r.status());
    assertEquals(
        "drivekd: --data/--drivebench need --model NAME=FOLDER and --tokenizer FILE",
        r.err().strip());

    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    DriveKdCommandTest.Run down =
        DriveKdCommandTest.run(
            "eval",
            "--scenes",
            "1",
            "--cache",
            dir.resolve("cache").toString(),
            "--out",
            dir.resolve("r2").toString(),
            "--judge-url",
            "http://127.0.0.1:" + port + "/v1",
            "--judge-model",
            "judge-x",
            "--judge-attempts",
            "1");
    assertEquals(2, down.status(), down.err());
    String last = down.err().strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("drivekd: judge judge-x answered none of "), down.err());
    assertFalse(Files.exists(dir.resolve("r2")), "no report");
  }

  @Test
  void scoresAStudentTrainedFromARecipeOnTrainingFormatData() throws Exception {
    Path data = dir.resolve("synthdrive");
    assertEquals(
        0,
        DriveKdCommandTest.run(
                "generate", "--out", data.toString(), "--split", "test", "--scenes", "2")
            .status());
    Path student = dir.resolve("student");
    try (var m =
        dev.drivekd.core.model.internvl.InternVlModel.create(
            dev.drivekd.core.model.internvl.InternVlConfig.preset("student-tiny")
                .withTokenizer(
                    dev.drivekd.core.text.WordTokenizer.load(data.resolve("tokenizer.json"))
                        .identity()),
            ai.djl.Device.cpu(),
            1)) {
      m.save(student);
    }
    DriveKdCommandTest.Run r =
        DriveKdCommandTest.run(
            "eval",
            "--data",
            data.resolve("test.json").toString(),
            "--tokenizer",
            data.resolve("tokenizer.json").toString(),
            "--model",
            "student=" + student,
            "--cache",
            dir.resolve("cache").toString(),
            "--out",
            dir.resolve("r").toString(),
            "--json");
    assertEquals(0, r.status(), r.err());
    JsonNode report = new ObjectMapper().readTree(r.out());
    assertEquals("student", report.at("/models/0/model").asText());
    assertEquals(6, report.at("/provenance/data/items").asInt());
  }
}
