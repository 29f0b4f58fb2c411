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
    return evaluate(List.of(student), dataset).get(0);
  }

  /**
   * Scores several students of one depth, running the teachers once per sample for all of them.
   *
   * @return one report per student, in the order given
   */
  public List<AgreementReport> evaluate(
      List<? extends VisionLanguageModel> students, DrivingDataset dataset) {
    if (students.isEmpty()) {
      throw new IllegalArgumentException("no student to score");
    }
    int depth = students.get(0).card().depth();
    for (VisionLanguageModel s : students) {
      if (s.card().depth() != depth) {
        throw new IllegalArgumentException(
            "students of one evaluation share a depth (the recipe maps teacher layers onto it): "
                + students.get(0).card().name()
                + " has "
                + depth
                + " layers, "
                + s.card().name()
                + " has "
                + s.card().depth());
      }
    }
    Map<Capability, SortedSet<Integer>> teacherLayers = new EnumMap<>(Capability.class);
    SortedSet<Integer> studentLayers = new TreeSet<>();
    for (Capability c : teachers.capabilities()) {
      int teacherDepth = teachers.card(c).depth();
      teacherLayers.put(c, recipe.teacherLayers(c, depth, teacherDepth));
      studentLayers.addAll(recipe.studentLayers(c, depth, teacherDepth));
    }
    List<List<AgreementReport.SampleScore>> scores = new ArrayList<>();
    students.forEach(s -> scores.add(new ArrayList<>(dataset.size())));
    try (NDManager manager = NDManager.newBaseManager(students.get(0).device())) {
      for (int i = 0; i < dataset.size(); i++) {
        DrivingSample sample = dataset.get(i);
        try (NDManager scratch = manager.newSubManager()) {
          VlmBatch batch =
              encoder.encodeSamples(scratch, List.of(sample), BatchEncoder.PromptMode.TRAINING);
          Map<Capability, LayerMaps> targets = teachers.targets(i, sample, batch, teacherLayers);
          for (int k = 0; k < students.size(); k++) {
            scores
                .get(k)
                .add(score(i, sample, students.get(k), batch, targets, studentLayers, scratch));
          }
        }
      }
    }
    List<AgreementReport> reports = new ArrayList<>();
    scores.forEach(list -> reports.add(new AgreementReport(list)));
    return reports;
  }

  private AgreementReport.SampleScore score(
      int index,
      DrivingSample sample,
      VisionLanguageModel student,
      VlmBatch batch,
      Map<Capability, LayerMaps> targets,
      SortedSet<Integer> studentLayers,
      NDManager scratch) {
    ModelOutput out = student.forward(batch, ForwardRequest.attentionOf(studentLayers), false);
    NDArray ce = crossEntropy.evaluate(out.logits(), batch.layout().labels(scratch));
    Map<Capability, Double> losses = new EnumMap<>(Capability.class);
    for (Map.Entry<Capability, LayerMaps> t : targets.entrySet()) {
      NDArray loss =
          recipe.loss(t.getKey()).evaluate(out.attention(), t.getValue(), batch.layout());
      losses.put(t.getKey(), (double) loss.getFloat());
    }
    return new AgreementReport.SampleScore(index, sample.capability(), ce.getFloat(), losses);
  }
}
