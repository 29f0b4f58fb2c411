package dev.drivekd.examples.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.TrainingSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistillThreeTeachersTest {

  @TempDir Path dir;

  @Test
  void theExampleDistilsLogsAndResumes() throws Exception {
    DrivingDataset dataset = DistillThreeTeachers.syntheticDataset(dir.resolve("data"), 6);
    WordTokenizer tokenizer = WordTokenizer.builder().addDataset(dataset).build();
    Path run = dir.resolve("run");
    try (InternVlModel student = model("student-tiny", tokenizer, 1);
        InternVlModel p = model("teacher-small", tokenizer, 2);
        InternVlModel r = model("teacher-small", tokenizer, 3);
        InternVlModel d = model("teacher-small", tokenizer, 4)) {
      Map<Capability, VisionLanguageModel> teachers = new EnumMap<>(Capability.class);
      teachers.put(Capability.PERCEPTION, p);
      teachers.put(Capability.REASONING, r);
      teachers.put(Capability.PLANNING, d);
      TrainingSummary first =
          DistillThreeTeachers.distil(student, teachers, dataset, tokenizer, run, 2);
      assertEquals(12, first.microSteps());
      assertEquals(4, first.optimizerSteps(), "2 epochs of 6 samples, windows of 4 (4 + 2)");
      assertEquals(0, first.skippedUpdates());
      assertEquals(
          List.of("ce", "p:first_att_Atv", "r:intermediate", "d:penult_att_Atv"),
          List.copyOf(first.losses().keySet()));
      List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
      assertTrue(metrics.size() >= 4, "one line per optimizer step at least: " + metrics.size());
      assertTrue(Files.isDirectory(run.resolve("checkpoints")));
      // the run folder holds a finished run: resuming it trains nothing more
      TrainingSummary again =
          DistillThreeTeachers.distil(student, teachers, dataset, tokenizer, run, 2);
      assertEquals(0, again.microSteps());
    }
  }

  private static InternVlModel model(String preset, WordTokenizer tokenizer, long seed) {
    return InternVlModel.create(
        InternVlConfig.preset(preset).withTokenizer(tokenizer.identity()), Device.cpu(), seed);
  }
}
