package dev.drivekd.core.train;

import ai.djl.nn.Parameter;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.StepReport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;

/** The tiny driving set-up ({@link TinyDriving}) with a live teacher for the trainer's tests. */
final class TrainerFixture extends TinyDriving {

  TrainerFixture(Path dir) {
    super(dir);
  }

  /** The same images with other questions and answers. */
  TrainerFixture(Path dir, String[][] samples) {
    super(dir, samples);
  }

  /** A trainer of {@code student} with this fixture's encoder, {@code teachers} and seed 5. */
  DistillationTrainer.Builder trainer(InternVlModel student, TeacherTargets teachers) {
    return DistillationTrainer.builder()
        .setStudent(student)
        .setEncoder(encoder(student.card()))
        .optTeachers(teachers)
        .optSeed(5);
  }

  /** Every trainable parameter's values, in the model's order. */
  static List<float[]> weights(InternVlModel model) {
    List<float[]> out = new ArrayList<>();
    for (Parameter p : model.trainableParameters()) {
      out.add(p.getArray().toFloatArray());
    }
    return out;
  }

  /** A listener that throws ("simulated crash") after optimizer step {@code step}. */
  static DistillationListener crashAfterStep(long step) {
    return new DistillationListener() {
      @Override
      public void onStep(StepReport report) {
        if (report.optimizerStep() == step) {
          throw new IllegalStateException("simulated crash");
        }
      }
    };
  }

  /** One live teacher for every capability, run once per sample with the union of layers. */
  static class LiveTeacher implements TeacherTargets {
    final VisionLanguageModel teacher;
    int forwards;

    LiveTeacher(VisionLanguageModel teacher) {
      this.teacher = teacher;
      teacher.freeze(true);
    }

    @Override
    public Set<Capability> capabilities() {
      return Set.of(Capability.values());
    }

    @Override
    public ModelCard card(Capability capability) {
      return teacher.card();
    }

    @Override
    public Map<Capability, LayerMaps> targets(
        int sampleIndex,
        DrivingSample sample,
        VlmBatch batch,
        Map<Capability, SortedSet<Integer>> layers) {
      SortedSet<Integer> all = new java.util.TreeSet<>();
      layers.values().forEach(all::addAll);
      forwards++;
      ModelOutput out = teacher.forward(batch, ForwardRequest.attentionOf(all), false);
      Map<Capability, LayerMaps> maps = new EnumMap<>(Capability.class);
      for (Capability c : layers.keySet()) {
        maps.put(c, out.attention());
      }
      return maps;
    }
  }
}
