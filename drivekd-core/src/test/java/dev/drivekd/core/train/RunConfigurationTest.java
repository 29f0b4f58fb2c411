package dev.drivekd.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.TrainingBegin;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.DynamicWeightConfig;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.gradproj.ShuffleRandom;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run's provenance records, and resuming under the same or another configuration. */
class RunConfigurationTest {

  @TempDir Path dir;
  private TrainerFixture fixture;

  @BeforeEach
  void setUp() {
    fixture = new TrainerFixture(dir.resolve("data"));
  }

  private DistillationTrainer.Builder trainer(InternVlModel student, InternVlModel teacher) {
    return DistillationTrainer.builder()
        .setStudent(student)
        .setEncoder(fixture.encoder(student.card()))
        .optTeachers(new TrainerFixture.LiveTeacher(teacher))
        .optAccumulation(3)
        .optSchedule(LrSchedule.cosine(1e-3, 4, 1, 0.1))
        .optSeed(7);
  }

  @Test
  void provenanceRecordsEverythingThatDecidesTheResult() {
    List<RunProvenance> seen = new ArrayList<>();
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            trainer(student, teacher)
                .optMixing(MixingMatrix.identity())
                .optLossWeighting(
                    LossWeighting.dynamic(
                        TaskKeys.defaultStaticWeights(),
                        DynamicWeightConfig.defaults().withAlpha(0.5)))
                .optProjection(GradientProjection.stage1Only().optDense(true))
                .optAdamW(0.8, 0.99, 1e-6)
                .optWeightDecay(0.01)
                .optMicroBatch(2)
                .optFreezeVision(true)
                .addListener(
                    new DistillationListener() {
                      @Override
                      public void onTrainingBegin(TrainingBegin begin) {
                        seen.add(begin.provenance());
                      }
                    })
                .build()) {
      t.fit(fixture.dataset);
    }
    JsonNode c = seen.get(0).recipe();
    assertEquals("student-tiny", c.at("/student/name").asText());
    assertEquals(6, c.at("/teachers/perception/depth").asInt());
    assertEquals("unknown", c.at("/teachers/planning/weightsFingerprint").asText());
    assertTrue(c.at("/recipe/reasoning").asText().startsWith("r:intermediate"), c.toString());
    assertEquals("[1.0,0.0,0.0]", c.at("/mixing/perception").toString());
    assertTrue(c.at("/lossWeights/dynamic").asBoolean());
    assertEquals(1.0, c.at("/lossWeights/static/ce").asDouble());
    assertEquals(0.5, c.at("/lossWeights/config/alpha").asDouble());
    assertEquals("agp-stage1-only", c.at("/projection/method").asText());
    assertTrue(c.at("/projection/dense").asBoolean());
    assertEquals(0.8, c.at("/optimizer/beta1").asDouble());
    assertEquals(0.99, c.at("/optimizer/beta2").asDouble());
    assertEquals(1e-6, c.at("/optimizer/epsilon").asDouble());
    assertEquals(0.01, c.at("/optimizer/weightDecay").asDouble());
    assertEquals("cosine", c.at("/schedule/kind").asText());
    assertEquals(4, c.at("/schedule/totalSteps").asLong());
    assertEquals(2, c.at("/microBatch").asInt());
    assertEquals(3, c.at("/accumulation").asInt());
    assertTrue(c.at("/freezeVision").asBoolean());
    assertEquals(7, c.at("/seed").asLong());
    assertEquals(64, seen.get(0).dataFingerprint().length(), "SHA-256 of the data file");
    assertEquals(
        Map.of("data-order", 7L, "projection-order", RunSeeds.derive(7, "projection-order")),
        seen.get(0).seeds());
  }

  @Test
  void dataOrderAndProjectionOrderDrawDifferentNumbers() {
    Map<String, Long> seeds = RunSeeds.of(42);
    assertEquals(42L, seeds.get(RunSeeds.DATA_ORDER));
    long derived = seeds.get(RunSeeds.PROJECTION_ORDER);
    assertNotEquals(42L, derived);
    assertNotEquals(
        new ShuffleRandom(42).nextLong(), new ShuffleRandom(derived).nextLong(), "first draw");
    assertEquals(derived, RunSeeds.derive(42, RunSeeds.PROJECTION_ORDER), "a pure function");
    assertNotEquals(derived, RunSeeds.derive(43, RunSeeds.PROJECTION_ORDER));
  }

  @Test
  void resumingUnderAnotherConfigurationNamesEveryDifferingKey() {
    Path run = checkpointedRun();
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            trainer(student, teacher)
                .optAdamW(0.9, 0.99, 1e-8)
                .optMixing(MixingMatrix.identity())
                .optCheckpoints(CheckpointStore.open(run), 1)
                .optResume(true)
                .build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> t.fit(fixture.dataset));
      String m = e.getMessage();
      assertTrue(m.contains("step-000002"), m);
      assertTrue(m.contains("optimizer.beta2: 0.999 -> 0.99"), m);
      assertTrue(m.contains("mixing.perception: [0.8,0.1,0.1] -> [1.0,0.0,0.0]"), m);
      assertTrue(m.contains("optResumeAllowing(\"mixing.perception\""), m);
      assertTrue(!m.contains("epochs"), m);
    }
    // allowed explicitly, the same change resumes (and the completed run has nothing left to do)
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            trainer(student, teacher)
                .optAdamW(0.9, 0.99, 1e-8)
                .optMixing(MixingMatrix.identity())
                .optCheckpoints(CheckpointStore.open(run), 1)
                .optResume(true)
                .optResumeAllowing("optimizer", "mixing")
                .build()) {
      assertEquals(0, t.fit(fixture.dataset).microSteps());
    }
  }

  @Test
  void resumingOnOtherDataIsRefused() {
    Path run = checkpointedRun();
    String[][] other = TrainerFixture.SAMPLES.clone();
    other[0] = new String[] {"perception", "What is left of the ego car?", "A white truck."};
    TrainerFixture changed = new TrainerFixture(dir.resolve("other"), other);
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            trainer(student, teacher)
                .optCheckpoints(CheckpointStore.open(run), 1)
                .optResume(true)
                .build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> t.fit(changed.dataset));
      assertTrue(e.getMessage().contains("data.fingerprint: "), e.getMessage());
    }
  }

  /** A completed one-epoch run with a checkpoint after every optimizer step. */
  private Path checkpointedRun() {
    Path run = dir.resolve("run");
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            trainer(student, teacher).optCheckpoints(CheckpointStore.open(run), 1).build()) {
      t.fit(fixture.dataset);
    }
    return run;
  }

  @Test
  void aTrainerTrainsOnce() {
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t = trainer(student, teacher).build()) {
      t.fit(fixture.dataset);
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> t.fit(fixture.dataset));
      assertTrue(e.getMessage().contains("fit runs once per trainer"), e.getMessage());
    }
  }
}
