package com.example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One distillation step through the public API, with nothing but the installed artifacts. */
class OneDistillationStepTest {

  @TempDir Path dir;

  @Test
  void aStudentTakesOneStepFromThreeTeachers() throws Exception {
    DrivingDataset data =
        SyntheticDrivingData.create(
            dir,
            List.of(
                new SyntheticDrivingData.Record("perception", "What is ahead?", "A white truck."),
                new SyntheticDrivingData.Record("reasoning", "Why slow down?", "A pedestrian."),
                new SyntheticDrivingData.Record("planning", "What next?", "Keep the lane.")),
            24,
            7);
    WordTokenizer tokenizer = WordTokenizer.builder().addDataset(data).build();
    try (InternVlModel student = model("student-tiny", tokenizer, 1);
        InternVlModel teacher = model("teacher-small", tokenizer, 2)) {
      Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
      for (Capability c : Capability.values()) {
        roles.put(c, teacher);
      }
      BatchEncoder encoder =
          BatchEncoder.builder()
              .setTokenizer(tokenizer)
              .setImagePipeline(ImagePipeline.imageNet(student.card().imageSize()))
              .setModel(student.card())
              .build();
      try (DistillationTrainer trainer =
          DistillationTrainer.builder()
              .setStudent(student)
              .setEncoder(encoder)
              .optTeachers(TeacherPanel.of(roles))
              .optAccumulation(3)
              .optEpochs(1)
              .build()) {
        TrainingSummary summary = trainer.fit(data);
        assertEquals(1, summary.optimizerSteps());
        assertEquals(0, summary.skippedUpdates());
        assertTrue(summary.losses().containsKey("ce"));
      }
    }
  }

  private static InternVlModel model(String preset, WordTokenizer tokenizer, long seed) {
    return InternVlModel.create(
        InternVlConfig.preset(preset).withTokenizer(tokenizer.identity()), Device.cpu(), seed);
  }
}
