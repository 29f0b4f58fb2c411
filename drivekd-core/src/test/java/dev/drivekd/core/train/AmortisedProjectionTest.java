package dev.drivekd.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ParameterGradients;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.EpochReport;
import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.gradproj.GradientProjection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AGP amortised over micro-steps ({@code GradientProjection.optRefreshEvery}): T = 1 is plain AGP
 * bit for bit; a reused micro-step adds one backward of the fitted loss multipliers; the reused
 * state survives a checkpoint bit for bit; a bad reused step reaches no weight.
 */
class AmortisedProjectionTest {

  @TempDir Path dir;
  private TrainerFixture fixture;

  @BeforeEach
  void setUp() {
    fixture = new TrainerFixture(dir);
  }

  @Test
  void refreshingEveryMicroStepIsPlainAgpBitForBit() {
    List<float[]> plain = weightsAfter(GradientProjection.agp(), 3);
    List<float[]> everyOne = weightsAfter(GradientProjection.agp().optRefreshEvery(1), 3);
    for (int i = 0; i < plain.size(); i++) {
      assertArrayEquals(plain.get(i), everyOne.get(i), "parameter " + i);
    }
    List<float[]> everyFour = weightsAfter(GradientProjection.agp().optRefreshEvery(4), 3);
    assertFalse(Arrays.equals(plain.get(0), everyFour.get(0)), "T = 4 must train differently");
  }

  private List<float[]> weightsAfter(GradientProjection projection, int epochs) {
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.teacher(2);
        DistillationTrainer t =
            fixture
                .trainer(student, new TrainerFixture.LiveTeacher(teacher))
                .optProjection(projection)
                .optAccumulation(2)
                .optEpochs(epochs)
                .build()) {
      TrainingSummary s = t.fit(fixture.dataset);
      if (projection.refreshEvery() == 1) {
        assertEquals(CoefficientReuseSummary.none(), s.reuse());
      } else {
        // 2 samples per capability, 3 epochs: each kind combines on its 1st and 5th of 6
        assertEquals(6, s.reuse().combinedMicroSteps(), s.reuse().toString());
        assertEquals(12, s.reuse().reusedMicroSteps());
        assertEquals(3, s.reuse().driftMeasurements());
        assertTrue(s.reuse().minDriftCosine() > 0.5, s.reuse().toString());
        assertTrue(s.reuse().minFitCosine() > 0.9, s.reuse().toString());
      }
      return TrainerFixture.weights(student);
    }
  }

  @Test
  void aReusedMicroStepAddsTheOneBackwardFitOfTheLastCombine() {
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.teacher(2);
        DistillationTrainer t =
            fixture
                .trainer(student, new TrainerFixture.LiveTeacher(teacher))
                .optProjection(GradientProjection.agp().optRefreshEvery(2))
                .optAccumulation(4)
                .build()) {
      int params = student.trainableParameters().size();
      DrivingSample sample = fixture.dataset.get(0);
      t.updates().beginEpoch(4);
      MicroStepReport full = t.updates().train(List.of(0), List.of(sample));
      assertNotNull(full.reuse());
      assertFalse(full.reuse().reused());
      assertTrue(full.projection().stage1().size() == 3, "a full combine tests each follower");
      double[] combined = flat(t, params);
      MicroStepReport reused = t.updates().train(List.of(0), List.of(sample));
      assertTrue(reused.reuse().reused());
      assertEquals(1, reused.reuse().microStepsSinceRefresh());
      assertTrue(reused.gradientNorms().isEmpty(), "one backward measures no task norm");
      assertEquals(0, reused.projection().stage1().size() + reused.projection().stage2().size());
      assertEquals(full.reuse().fitCosine(), reused.reuse().fitCosine());
      double[] both = flat(t, params);
      double[] fit = new double[both.length];
      for (int i = 0; i < fit.length; i++) {
        fit[i] = both[i] - combined[i];
      }
      // the same sample and weights: the second gradient is the least-squares fit f of the first
      // combine c, so cos(f, c) is the reported fit cosine and |f| = cos * |c| (f is c's
      // projection onto the span of the task gradients)
      double cos = full.reuse().fitCosine();
      assertTrue(cos > 0.9 && cos <= 1 + 1e-9, "fit cosine " + cos);
      assertEquals(
          cos, dot(fit, combined) / Math.sqrt(dot(fit, fit) * dot(combined, combined)), 2e-4);
      assertEquals(
          cos * Math.sqrt(dot(combined, combined)),
          Math.sqrt(dot(fit, fit)),
          2e-4 * Math.sqrt(dot(combined, combined)));
      // the third micro-step of the kind combines again and measures how far the reuse was off
      MicroStepReport again = t.updates().train(List.of(0), List.of(sample));
      assertFalse(again.reuse().reused());
      assertEquals(cos, again.reuse().driftCosine(), 1e-6, "same sample, same weights");
    }
  }

  @Test
  void aBadReusedMicroStepIsSkippedAndItsKindCombinesNext() {
    AtomicInteger served = new AtomicInteger();
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.teacher(2)) {
      TeacherTargets poisonedSecond =
          new TrainerFixture.LiveTeacher(teacher) {
            @Override
            public Map<Capability, LayerMaps> targets(
                int i, DrivingSample s, VlmBatch batch, Map<Capability, SortedSet<Integer>> l) {
              Map<Capability, LayerMaps> maps = super.targets(i, s, batch, l);
              if (served.incrementAndGet() == 2) {
                LayerMaps clean = maps.get(Capability.PLANNING);
                maps.put(
                    Capability.PLANNING,
                    LayerMaps.of(clean.depth(), k -> clean.headAveraged(k).mul(Float.NaN)));
              }
              return maps;
            }
          };
      try (DistillationTrainer t =
          fixture
              .trainer(student, poisonedSecond)
              .optProjection(GradientProjection.agp().optRefreshEvery(8))
              .optAccumulation(8)
              .build()) {
        DrivingSample sample = fixture.dataset.get(4);
        t.updates().beginEpoch(8);
        assertFalse(t.updates().train(List.of(4), List.of(sample)).reuse().reused());
        double[] before = flat(t, student.trainableParameters().size());
        MicroStepReport bad = t.updates().train(List.of(4), List.of(sample));
        assertNotNull(bad.skipped());
        assertArrayEquals(before, flat(t, student.trainableParameters().size()), "window intact");
        MicroStepReport next = t.updates().train(List.of(4), List.of(sample));
        assertFalse(next.reuse().reused(), "after a skip the kind combines afresh");
        assertTrue(t.updates().train(List.of(4), List.of(sample)).reuse().reused());
      }
    }
  }

  @Test
  void aNonFiniteGradientNeverEntersTheWindow() {
    try (InternVlModel student = fixture.model("student-tiny", 1);
        NDManager m = NDManager.newBaseManager()) {
      List<Parameter> params = student.trainableParameters();
      GradientWindow window = new GradientWindow(m, params);
      boolean[] all = new boolean[params.size()];
      Arrays.fill(all, true);
      NDArray first = params.get(0).getArray();
      try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
        c.backward(first.mul(Float.NaN).sum());
      }
      assertFalse(window.addIfFinite(params, all));
      assertEquals(0, window.contributions());
      assertEquals(0f, window.gradient(0).abs().sum().getFloat());
      ParameterGradients.zero(params);
      try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
        c.backward(first.mul(3f).sum());
      }
      assertTrue(window.addIfFinite(params, all));
      assertEquals(1, window.contributions());
      assertEquals(3f * first.size(), window.gradient(0).sum().getFloat(), 1e-3f);
      assertTrue(window.reached(0));
      ParameterGradients.zero(params);
    }
  }

  @Test
  void anAmortisedRunResumesBitForBitAndLeavesNoArrayBehind() {
    List<float[]> uninterrupted;
    List<Integer> arrays = new ArrayList<>();
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.teacher(2)) {
      DistillationTrainer[] self = new DistillationTrainer[1];
      try (DistillationTrainer t =
          resumable(student, teacher, dir.resolve("run-a"), false)
              .addListener(
                  new DistillationListener() {
                    @Override
                    public void onEpochEnd(EpochReport report) {
                      arrays.add(
                          student.manager().getManagedArrays().size()
                              + teacher.manager().getManagedArrays().size()
                              + self[0].managedArrays());
                    }
                  })
              .build()) {
        self[0] = t;
        TrainingSummary s = t.fit(fixture.dataset);
        assertTrue(s.reuse().reusedMicroSteps() > 0);
      }
      uninterrupted = TrainerFixture.weights(student);
    }
    assertEquals(arrays.get(1), arrays.get(arrays.size() - 1), "managed arrays " + arrays);
    Path runB = dir.resolve("run-b");
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.teacher(2);
        DistillationTrainer t =
            resumable(student, teacher, runB, false)
                .addListener(TrainerFixture.crashAfterStep(7))
                .build()) {
      assertThrows(IllegalStateException.class, () -> t.fit(fixture.dataset));
    }
    try (InternVlModel student = fixture.model("student-tiny", 99);
        InternVlModel teacher = fixture.teacher(2);
        DistillationTrainer t = resumable(student, teacher, runB, true).build()) {
      t.fit(fixture.dataset);
      List<float[]> resumed = TrainerFixture.weights(student);
      // bit for bit: lost multipliers or refresh counters would move them
      for (int i = 0; i < resumed.size(); i++) {
        assertArrayEquals(uninterrupted.get(i), resumed.get(i), "parameter " + i);
      }
    }
  }

  private DistillationTrainer.Builder resumable(
      InternVlModel student, InternVlModel teacher, Path runDir, boolean resume) {
    return fixture
        .trainer(student, new TrainerFixture.LiveTeacher(teacher))
        .optProjection(GradientProjection.agp().optRefreshEvery(3))
        .optAccumulation(2)
        .optEpochs(4)
        .optSchedule(LrSchedule.cosine(1e-3, 12, 2, 0.1))
        .optCheckpoints(CheckpointStore.open(runDir), 2)
        .optResume(resume);
  }

  private static double[] flat(DistillationTrainer t, int params) {
    List<Float> values = new ArrayList<>();
    for (int i = 0; i < params; i++) {
      for (float v : t.updates().windowGradient(i).toFloatArray()) {
        values.add(v);
      }
    }
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
