package dev.drivekd.teachers.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.LrSchedule;
import dev.drivekd.core.train.TaskKeys;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training from a precomputed cache is training with the live teachers: the same student from the
 * same seed, two epochs with shuffling, accumulation, AGP and dynamic loss weights, gives bit-equal
 * per-step losses of every task and bit-equal final weights.
 */
class CachedTrainingTest {

  @TempDir Path dir;

  private DistillationTrainer.Builder trainer(
      DrivingFixture f, InternVlModel student, TeacherTargets teachers) {
    return DistillationTrainer.builder()
        .setStudent(student)
        .setEncoder(f.encoder(student.card()))
        .optTeachers(teachers)
        .optRecipe(DistillationRecipe.paper())
        .optAccumulation(2)
        .optEpochs(2)
        .optSchedule(LrSchedule.constant(3e-3))
        .optSeed(5);
  }

  /** Two teachers: one for perception and planning, another for reasoning. */
  private static TeacherPanel panel(VisionLanguageModel a, VisionLanguageModel b) {
    Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
    roles.put(Capability.PERCEPTION, a);
    roles.put(Capability.REASONING, b);
    roles.put(Capability.PLANNING, a);
    return TeacherPanel.of(roles);
  }

  @Test
  void trainingFromTheCacheEqualsTrainingWithTheLiveTeachers() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    DrivingFixture f = new DrivingFixture(data);
    Path cacheDir = dir.resolve("cache");
    Path otherCacheDir = dir.resolve("other-cache");
    TrainingSummary live;
    List<float[]> liveWeights;
    try (InternVlModel a = f.teacher(2);
        InternVlModel b = f.teacher(3);
        InternVlModel c = f.teacher(4);
        InternVlModel student = f.model("student-tiny", 1)) {
      TeacherPanel panel = panel(a, b);
      TeacherTargetPrecomputer.builder()
          .setTeachers(panel)
          .setStudent(student.card())
          .setEncoder(f.encoder(student.card()))
          .build()
          .precompute(f.dataset, cacheDir);
      // the same panel with another reasoning teacher, to show that the comparison can fail
      TeacherTargetPrecomputer.builder()
          .setTeachers(panel(a, c))
          .setStudent(student.card())
          .setEncoder(f.encoder(student.card()))
          .build()
          .precompute(f.dataset, otherCacheDir);
      try (DistillationTrainer t = trainer(f, student, panel).build()) {
        live = t.fit(f.dataset);
      }
      liveWeights = DrivingFixture.weights(student);
    }
    // the teachers are closed: from here on, only the student and the cache
    TrainingSummary cached;
    List<float[]> cachedWeights;
    List<float[]> initial;
    try (InternVlModel student = f.model("student-tiny", 1)) {
      initial = DrivingFixture.weights(student);
      try (CachedTeacherTargets targets =
              CachedTeacherTargets.builder(cacheDir)
                  .setStudent(student.card())
                  .setDataset(f.dataset)
                  .open();
          DistillationTrainer t = trainer(f, student, targets).build()) {
        cached = t.fit(f.dataset);
      }
      cachedWeights = DrivingFixture.weights(student);
    }

    assertEquals(12, live.microSteps());
    assertEquals(6, live.optimizerSteps());
    assertEquals(0, live.skippedUpdates());
    assertEquals(TaskKeys.ALL, List.copyOf(live.losses().keySet()));
    for (String task : TaskKeys.ALL) {
      List<Float> l = live.losses().get(task);
      for (float v : l) {
        assertTrue(Float.isFinite(v) && v > 0, task + " " + l);
      }
      // bit for bit: Float.equals compares the bits
      assertEquals(l, cached.losses().get(task), task);
    }
    assertEquals(live.optimizerSteps(), cached.optimizerSteps());
    assertEquals(liveWeights.size(), cachedWeights.size());
    boolean moved = false;
    for (int i = 0; i < liveWeights.size(); i++) {
      assertArrayEquals(liveWeights.get(i), cachedWeights.get(i), 0f, "parameter " + i);
      moved |= !java.util.Arrays.equals(initial.get(i), cachedWeights.get(i));
    }
    assertTrue(moved, "training moved the student");

    // Another reasoning teacher's cache trains differently, on the reasoning loss first.
    TrainingSummary other;
    try (InternVlModel student = f.model("student-tiny", 1);
        CachedTeacherTargets targets =
            CachedTeacherTargets.builder(otherCacheDir)
                .setStudent(student.card())
                .setDataset(f.dataset)
                .open();
        DistillationTrainer t = trainer(f, student, targets).optEpochs(1).build()) {
      other = t.fit(f.dataset);
    }
    assertEquals(live.losses().get("ce").get(0), other.losses().get("ce").get(0), "same start");
    assertEquals(
        live.losses().get("p:first_att_Atv").get(0),
        other.losses().get("p:first_att_Atv").get(0),
        "same perception teacher");
    assertNotEquals(
        live.losses().get("r:intermediate").get(0), other.losses().get("r:intermediate").get(0));
    assertFalse(
        live.losses().get("ce").subList(0, 6).equals(other.losses().get("ce")),
        "the student then moves elsewhere");
  }
}
