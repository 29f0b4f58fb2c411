package dev.drivekd.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.TeacherTargets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * How closely a student follows its teachers on a dataset: per sample, the answer cross-entropy
 * and, for every teacher, the recipe's distillation loss between the student's and that teacher's
 * attention signal (the loss the trainer minimises: layer-0 text-to-vision MSE for perception, the
 * grouped intermediate full-map MSE for reasoning, penultimate text-to-vision MSE for planning).
 * Everything runs without gradients, one sample at a time, each in its own sub-manager.
 *
 * <p>A student that is its own teacher scores 0 on every signal (tested); a student trained on CE
 * alone shows what distillation adds.
 */
public final class TeacherAgreement {

  private final BatchEncoder encoder;
  private final TeacherTargets teachers;
  private final DistillationRecipe recipe;
  private final NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();

  private TeacherAgreement(
      BatchEncoder encoder, TeacherTargets teachers, DistillationRecipe recipe) {
    this.encoder = encoder;
    this.teachers = teachers;
    this.recipe = recipe;
  }

  /**
   * An evaluator.
   *
   * @param encoder the student's encoder (teachers of one family share it)
   * @param teachers the teachers (live or cached); each capability's signal is taken against its
   *     teacher
   * @param recipe the distillation losses, usually {@link DistillationRecipe#paper()}
   */
  public static TeacherAgreement of(
      BatchEncoder encoder, TeacherTargets teachers, DistillationRecipe recipe) {
    return new TeacherAgreement(encoder, teachers, recipe);
  }

  /** Scores {@code student} on every sample of {@code dataset}, in the dataset's order. */
  public AgreementReport evaluate(VisionLanguageModel student, DrivingDataset dataset) {
    int studentDepth = student.card().depth();
    Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
    Map<Capability, SortedSet<Integer>> studentLayers = new EnumMap<>(Capability.class);
    SortedSet<Integer> allStudentLayers = new TreeSet<>();
    for (Capability c : teachers.capabilities()) {
      int teacherDepth = teachers.card(c).depth();
      teacherLayers.put(c, recipe.teacherLayers(c, studentDepth, teacherDepth));
      studentLayers.put(c, recipe.studentLayers(c, studentDepth, teacherDepth));
      allStudentLayers.addAll(studentLayers.get(c));
    }
    List<AgreementReport.SampleScore> scores = new ArrayList<>(dataset.size());
    try (NDManager manager = NDManager.newBaseManager(student.device())) {
      for (int i = 0; i < dataset.size(); i++) {
        DrivingSample sample = dataset.get(i);
        try (NDManager scratch = manager.newSubManager()) {
          scores.add(score(i, sample, student, scratch, teacherLayers, allStudentLayers));
        }
      }
    }
    return new AgreementReport(scores);
  }

  private AgreementReport.SampleScore score(
      int index,
      DrivingSample sample,
      VisionLanguageModel student,
      NDManager scratch,
      Map<Capability, SortedSet<Integer>> teacherLayers,
      SortedSet<Integer> studentLayers) {
    VlmBatch batch =
        encoder.encodeSamples(scratch, List.of(sample), BatchEncoder.PromptMode.TRAINING);
    Map<Capability, LayerMaps> targets = teachers.targets(index, sample, batch, teacherLayers);
    ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(studentLayers), false);
    NDArray ce = crossEntropy.evaluate(out.logits(), batch.layout().labels(scratch));
    Map<Capability, Double> losses = new EnumMap<>(Capability.class);
    for (Capability c : teacherLayers.keySet()) {
      NDArray loss = recipe.loss(c).evaluate(out.attention(), targets.get(c), batch.layout());
      losses.put(c, (double) loss.getFloat());
    }
    return new AgreementReport.SampleScore(index, sample.capability(), ce.getFloat(), losses);
  }
}
