package dev.drivekd.core.train.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetricsFileListener}: JSON lines that parse back to the exact values, flushed, appended.
 */
class MetricsFileListenerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      out.add(JSON.readTree(line));
    }
    return out;
  }

  private static <T> T back(JsonNode line, Class<T> type) throws IOException {
    ObjectNode copy = line.deepCopy();
    copy.remove("type");
    return JSON.treeToValue(copy, type);
  }

  @Test
  void everyLineParsesBackToTheExactValues() throws IOException {
    Path file = dir.resolve("logs/metrics.jsonl");
    MetricsFileListener listener = new MetricsFileListener(file);
    TrainingBegin begin = Reports.begin(40, 0);
    listener.onTrainingBegin(begin);
    StepReport awkward =
        new StepReport(
            0,
            13,
            52,
            52,
            0.1 + 0.2,
            Reports.map("ce", Double.MIN_VALUE, "r:intermediate", 1e-300, "d:penult_att_Atv", -0.0),
            Reports.map("ce", 0.6000000238418579, "r:intermediate", 1.0 / 3),
            new ProjectionStats("pcgrad", 0, 0, 6, 5),
            4.999999873689376e-05,
            Double.NaN,
            Double.POSITIVE_INFINITY,
            3);
    listener.onStep(Reports.step12());
    listener.onStep(awkward);
    // Flushed: both steps are on disk before the run ends.
    assertEquals(3, Files.readAllLines(file).size());
    EpochReport epoch = new EpochReport(0, 13, 52, Reports.map("ce", 2.25), 12.5);
    listener.onEpochEnd(epoch);
    TrainingEnd end = new TrainingEnd(0, 13, 52, 13.0, false);
    listener.onTrainingEnd(end);

    List<JsonNode> lines = lines(file);
    assertEquals(5, lines.size());
    JsonNode header = lines.get(0);
    assertEquals("header", header.get("type").asText());
    assertEquals("drivekd-metrics", header.get("format").asText());
    assertEquals(1, header.get("version").asInt());
    assertEquals(begin, back(header, TrainingBeginJson.class).toBegin());
    assertEquals("ab12", header.get("provenance").get("dataFingerprint").asText());
    assertEquals(42, header.get("provenance").get("seeds").get("data-order").asLong());

    assertEquals("step", lines.get(1).get("type").asText());
    assertEquals(Reports.step12(), back(lines.get(1), StepReport.class));
    StepReport parsed = back(lines.get(2), StepReport.class);
    assertEquals(awkward, parsed);
    assertEquals(0.30000000000000004, parsed.loss());
    assertEquals(
        Double.doubleToRawLongBits(-0.0),
        Double.doubleToRawLongBits(parsed.losses().get("d:penult_att_Atv")));
    assertEquals("NaN", lines.get(2).get("gradientNorm").asText());
    assertEquals(epoch, back(lines.get(3), EpochReport.class));
    assertEquals("end", lines.get(4).get("type").asText());
    assertEquals(end, back(lines.get(4), TrainingEnd.class));
  }

  /** The header minus its format fields is a {@link TrainingBegin}. */
  record TrainingBeginJson(
      String format,
      int version,
      RunProvenance provenance,
      int epochs,
      long samplesPerEpoch,
      long totalOptimizerSteps,
      dev.drivekd.core.train.checkpoint.StepCounters start) {
    TrainingBegin toBegin() {
      return new TrainingBegin(provenance, epochs, samplesPerEpoch, totalOptimizerSteps, start);
    }
  }

  @Test
  void stepLineIsFlatJsonInFieldOrder() throws IOException {
    Path file = dir.resolve("m.jsonl");
    MetricsFileListener listener = new MetricsFileListener(file);
    listener.onStep(Reports.step12());
    listener.close();
    assertEquals(
        "{\"type\":\"step\",\"epoch\":0,\"optimizerStep\":12,\"microStep\":48,\"samples\":48,"
            + "\"loss\":2.3456789,\"losses\":{\"ce\":2.31,\"p:first_att_Atv\":0.0123},"
            + "\"taskWeights\":{\"ce\":1.0,\"p:first_att_Atv\":0.8},\"projection\":{\"method\":"
            + "\"agp\",\"stage1Tests\":2,\"stage1Fired\":1,\"stage2Tests\":1,\"stage2Fired\":0},"
            + "\"learningRate\":5.0E-5,\"gradientNorm\":0.321,\"samplesPerSecond\":3.2109,"
            + "\"skippedUpdates\":0}",
        Files.readString(file).trim());
  }

  @Test
  void aResumedRunAppendsWithANewHeader() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    MetricsFileListener first = new MetricsFileListener(file);
    first.onTrainingBegin(Reports.begin(40, 0));
    first.onStep(Reports.step12());
    first.close(); // the process died here
    MetricsFileListener second = new MetricsFileListener(file);
    second.onTrainingBegin(Reports.begin(40, 12));
    second.onTrainingEnd(new TrainingEnd(1, 40, 160, 99, true));
    List<JsonNode> lines = lines(file);
    assertEquals(4, lines.size());
    assertEquals(
        List.of("header", "step", "header", "end"),
        lines.stream().map(l -> l.get("type").asText()).toList());
    assertEquals(12, lines.get(2).get("start").get("optimizerStep").asLong());
    assertTrue(lines.get(3).get("completed").asBoolean());
  }

  @Test
  void aLineTornByAKillStaysOnItsOwnLine() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    MetricsFileListener first = new MetricsFileListener(file);
    first.onTrainingBegin(Reports.begin(40, 0));
    first.close();
    // SIGKILL in the middle of writing a step line
    Files.writeString(file, "{\"type\":\"step\",\"epo", StandardOpenOption.APPEND);
    MetricsFileListener second = new MetricsFileListener(file);
    second.onTrainingBegin(Reports.begin(40, 12));
    second.close();
    List<String> raw = Files.readAllLines(file);
    assertEquals(3, raw.size(), String.join("\n", raw));
    assertEquals("{\"type\":\"step\",\"epo", raw.get(1));
    JsonNode header = new ObjectMapper().readTree(raw.get(2));
    assertEquals("header", header.get("type").asText());
    assertEquals(12, header.get("start").get("optimizerStep").asLong());
  }
}
