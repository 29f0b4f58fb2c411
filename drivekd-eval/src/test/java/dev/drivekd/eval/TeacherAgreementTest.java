package dev.drivekd.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherAgreementTest {

  @TempDir Path dir;

  @Test
  void aStudentThatIsItsOwnTeacherAgreesExactly() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 3)) {
      AgreementReport report =
          TeacherAgreement.of(
                  tiny.encoder(model.card()),
                  TeacherPanel.single(model),
                  DistillationRecipe.paper())
              .evaluate(model, tiny.dataset);
      assertEquals(tiny.dataset.size(), report.samples().size());
      double uniform = Math.log(model.card().vocabularySize());
      for (AgreementReport.SampleScore s : report.samples()) {
        assertEquals(tiny.dataset.get(s.index()).capability(), s.capability());
        assertEquals(3, s.attentionLoss().size());
        for (double loss : s.attentionLoss().values()) {
          assertEquals(0.0, loss, 0.0, "same model, same maps: " + s);
        }
        // a fresh model (init std 0.02) predicts nearly uniformly over the vocabulary
        assertEquals(uniform, s.crossEntropy(), 0.05, s.toString());
      }
    }
  }

  @Test
  void distillationBringsTheStudentCloserToItsTeachersThanCrossEntropyAlone() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel distilled = tiny.model("student-tiny", 1);
        InternVlModel plain = tiny.model("student-tiny", 1);
        InternVlModel teacher = tiny.teacher(2)) {
      TeacherAgreement agreement =
          TeacherAgreement.of(
              tiny.encoder(distilled.card()),
              TeacherPanel.single(teacher),
              DistillationRecipe.paper());
      AgreementReport start = agreement.evaluate(plain, tiny.dataset);
      train(tiny, plain, null);
      train(tiny, distilled, teacher);
      List<AgreementReport> both = agreement.evaluate(List.of(plain, distilled), tiny.dataset);
      AgreementReport ce = both.get(0);
      AgreementReport kd = both.get(1);
      // scoring together equals scoring alone (the teachers run once per sample for both)
      assertEquals(kd.samples(), agreement.evaluate(distilled, tiny.dataset).samples());
      // measured: perception 0.72x, reasoning 0.97x, planning 0.95x of the CE-only student's
      for (Capability c : Capability.values()) {
        assertTrue(
            kd.meanOwnTeacherLoss(c) < ce.meanOwnTeacherLoss(c),
            c
                + ": distilled "
                + kd.meanOwnTeacherLoss(c)
                + ", CE only "
                + ce.meanOwnTeacherLoss(c));
        assertTrue(kd.meanCrossEntropy(c) < start.meanCrossEntropy(c) - 1, c.toString());
      }
      double perception = kd.meanOwnTeacherLoss(Capability.PERCEPTION);
      assertTrue(perception < 0.85 * ce.meanOwnTeacherLoss(Capability.PERCEPTION), "" + perception);
      // CE alone leaves the attention where it started (within 1 %)
      for (Capability c : Capability.values()) {
        assertEquals(
            start.meanOwnTeacherLoss(c),
            ce.meanOwnTeacherLoss(c),
            0.01 * start.meanOwnTeacherLoss(c));
      }
    }
  }

  /** Six epochs at a constant 3e-3; attention losses weighted up (they are ~1e-3, CE ~6). */
  private static void train(TinyDriving tiny, InternVlModel student, InternVlModel teacher) {
    DistillationTrainer.Builder builder =
        DistillationTrainer.builder()
            .setStudent(student)
            .setEncoder(tiny.encoder(student.card()))
            .optSchedule(LrSchedule.constant(3e-3))
            .optEpochs(6);
    if (teacher != null) {
      builder
          .optTeachers(TeacherPanel.single(teacher))
          .optLossWeighting(LossWeighting.staticWeights(TinyDriving.strongAttentionWeights()));
    }
    try (DistillationTrainer trainer = builder.build()) {
      trainer.fit(tiny.dataset);
    }
  }

  @Test
  void meansAreTakenPerQuestionCapability() {
    AgreementReport report =
        new AgreementReport(
            List.of(
                new AgreementReport.SampleScore(
                    0,
                    Capability.PERCEPTION,
                    2.0,
                    Map.of(Capability.PERCEPTION, 0.1, Capability.PLANNING, 0.7)),
                new AgreementReport.SampleScore(
                    1, Capability.PERCEPTION, 4.0, Map.of(Capability.PERCEPTION, 0.3)),
                new AgreementReport.SampleScore(
                    2, Capability.PLANNING, 1.0, Map.of(Capability.PLANNING, 0.5))));
    assertEquals(3.0, report.meanCrossEntropy(Capability.PERCEPTION), 1e-12);
    assertEquals(0.2, report.meanOwnTeacherLoss(Capability.PERCEPTION), 1e-12);
    assertEquals(0.5, report.meanOwnTeacherLoss(Capability.PLANNING), 1e-12);
    assertTrue(Double.isNaN(report.meanCrossEntropy(Capability.REASONING)));
    assertEquals(7.0 / 3, report.meanCrossEntropy(), 1e-12);
  }
}
