package dev.drivekd.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.core.train.schedule.LrSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The optimizer step of an accumulation window against hand-computed AdamW: the first update with
 * accumulation 1, the learning rate after a window of skipped samples, and parameters that no loss
 * reached.
 */
class OptimizerUpdateTest {

  private static final double LR = 1e-3;
  private static final double EPS = 1e-8;

  @TempDir Path dir;
  private TrainerFixture fixture;

  @BeforeEach
  void setUp() {
    fixture = new TrainerFixture(dir);
  }

  /**
   * AdamW's first update of a parameter is {@code θ − lr·g/(|g| + eps)} (m = 0.1·g, v = 0.001·g²,
   * both bias corrections undo the betas). With accumulation 1, DJL's gradient handle taken before
   * the first backward was a detached zero array: the first step used to leave every weight where
   * it was, with the moments at 0 and the step count at 1.
   */
  @Test
  void firstUpdateWithAccumulationOneIsAdamWsFirstStep() {
    DrivingSample sample = fixture.dataset.get(0);
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel reference = fixture.model("student-tiny", 1);
        NDManager m = NDManager.newBaseManager()) {
      List<float[]> gradients = crossEntropyGradients(reference, sample, m);
      List<float[]> before = weights(student);
      try (DistillationTrainer t =
          DistillationTrainer.builder()
              .setStudent(student)
              .setEncoder(fixture.encoder(student.card()))
              .optAccumulation(1)
              .optSchedule(LrSchedule.constant(LR))
              .build()) {
        t.updates().beginEpoch(1);
        MicroStepReport r = t.updates().train(List.of(0), List.of(sample));
        assertNull(r.skipped());
        assertTrue(r.optimizerStepped());
      }
      List<float[]> after = weights(student);
      int moved = 0; // embedding rows of tokens the sample lacks have no gradient
      for (int i = 0; i < before.size(); i++) {
        float[] g = gradients.get(i);
        for (int j = 0; j < g.length; j++) {
          double expected = before.get(i)[j] - LR * g[j] / (Math.abs(g[j]) + EPS);
          assertEquals(expected, after.get(i)[j], 1e-7, "parameter " + i + "[" + j + "]");
          moved += after.get(i)[j] != before.get(i)[j] ? 1 : 0;
        }
      }
      assertTrue(moved > 0.5 * count(before), moved + " of " + count(before) + " weights moved");
    }
  }

  /**
   * A warmup schedule ({@code λ(n) = n/4}) whose first window is skipped: the second window's
   * update must use the schedule's rate of optimizer step 2 ({@code lr·1/4}), the rate it reports,
   * not the rate of the optimizer's own first update (0, which left the weights in place).
   */
  @Test
  void aSkippedWindowLeavesTheLearningRateOnSchedule() {
    double base = 1e-2;
    LrSchedule warmup = LrSchedule.linear(base, 10, 4, 0.0);
    try (InternVlModel student = fixture.model("student-tiny", 1);
        InternVlModel teacher = fixture.model("teacher-small", 2);
        DistillationTrainer t =
            DistillationTrainer.builder()
                .setStudent(student)
                .setEncoder(fixture.encoder(student.card()))
                .optTeachers(nanTargetsFor(4, teacher))
                .optAccumulation(1)
                .optSchedule(warmup)
                .build()) {
      t.updates().beginEpoch(2);
      MicroStepReport skipped = t.updates().train(List.of(4), List.of(fixture.dataset.get(4)));
      assertNotNull(skipped.skipped());
      assertEquals(0.0, skipped.learningRate());
      List<float[]> before = weights(student);
      MicroStepReport trained = t.updates().train(List.of(0), List.of(fixture.dataset.get(0)));
      assertNull(trained.skipped());
      assertEquals(base / 4, trained.learningRate(), 1e-15);
      // every parameter's first update moves each weight by lr·g/(|g| + eps): at most lr
      double largest = 0;
      List<float[]> after = weights(student);
      for (int i = 0; i < before.size(); i++) {
        for (int j = 0; j < before.get(i).length; j++) {
          largest = Math.max(largest, Math.abs(after.get(i)[j] - before.get(i)[j]));
        }
      }
      assertEquals(base / 4, largest, 1e-3 * base / 4, "largest step of one weight");
    }
  }

  /**
   * A text-only sample reaches no vision parameter: with PyTorch's AdamW such a parameter has
   * {@code grad None} and is skipped (no momentum step, no weight decay). Before, its zero gradient
   * still moved it through the first window's momentum and the decay.
   */
  @Test
  void aParameterNoLossReachedIsNotUpdated() throws IOException {
    DrivingDataset data = imageThenTextOnly();
    try (InternVlModel student = fixture.model("student-tiny", 1);
        DistillationTrainer t =
            DistillationTrainer.builder()
                .setStudent(student)
                .setEncoder(fixture.encoder(student.card()))
                .optAccumulation(1)
                .optWeightDecay(0.1)
                .optSchedule(LrSchedule.constant(LR))
                .build()) {
      t.updates().beginEpoch(2);
      assertNull(t.updates().train(List.of(0), List.of(data.get(0))).skipped());
      List<Pair<String, Parameter>> named = student.namedTrainableParameters();
      List<float[]> afterImage = weights(student);
      assertNull(t.updates().train(List.of(1), List.of(data.get(1))).skipped());
      List<float[]> afterText = weights(student);
      int vision = 0;
      for (int i = 0; i < named.size(); i++) {
        String name = named.get(i).getKey();
        if (name.startsWith("vision_model.") || name.startsWith("mlp1.")) {
          assertArrayEquals(afterImage.get(i), afterText.get(i), name + " moved without gradient");
          vision++;
        } else if (name.startsWith("language_model.lm_head")) {
          assertFalse(
              java.util.Arrays.equals(afterImage.get(i), afterText.get(i)), name + " did not move");
        }
      }
      assertTrue(vision > 0, "the student has vision parameters");
    }
  }

  /** The fixture's first sample, then the same question without its image. */
  private DrivingDataset imageThenTextOnly() throws IOException {
    ObjectMapper json = new ObjectMapper();
    ArrayNode root = (ArrayNode) json.readTree(fixture.dataset.sourceFile().toFile());
    ArrayNode two = json.createArrayNode();
    two.add(root.get(0));
    ObjectNode text = two.addObject();
    ArrayNode messages = text.putArray("messages");
    messages.addObject().put("role", "user").put("content", TrainerFixture.SAMPLES[0][1]);
    messages.addObject().put("role", "assistant").put("content", TrainerFixture.SAMPLES[0][2]);
    text.put("question_type", "perception");
    Path file = dir.resolve("image-then-text.json");
    json.writeValue(file.toFile(), two);
    return DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
  }

  /** A live teacher whose maps are NaN on sample {@code poisoned}. */
  private static TeacherTargets nanTargetsFor(int poisoned, InternVlModel teacher) {
    return new TrainerFixture.LiveTeacher(teacher) {
      @Override
      public Map<Capability, LayerMaps> targets(
          int i, DrivingSample s, VlmBatch batch, Map<Capability, SortedSet<Integer>> layers) {
        Map<Capability, LayerMaps> maps = super.targets(i, s, batch, layers);
        if (i == poisoned) {
          LayerMaps clean = maps.get(Capability.PERCEPTION);
          maps.put(
              Capability.PERCEPTION,
              LayerMaps.of(clean.depth(), k -> clean.headAveraged(k).mul(Float.NaN)));
        }
        return maps;
      }
    };
  }

  /** The gradient of the sample's answer CE for every trainable parameter, by its own backward. */
  private List<float[]> crossEntropyGradients(
      InternVlModel model, DrivingSample sample, NDManager m) {
    BatchEncoder encoder = fixture.encoder(model.card());
    VlmBatch batch = encoder.encodeSamples(m, List.of(sample), BatchEncoder.PromptMode.TRAINING);
    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
      ModelOutput out = model.forward(batch, ForwardRequest.attentionOf(new TreeSet<>()), true);
      gc.backward(NextTokenCrossEntropy.create().evaluate(out.logits(), batch.layout().labels(m)));
    }
    List<float[]> out = new ArrayList<>();
    for (Parameter p : model.trainableParameters()) {
      try (NDArray g = p.getArray().getGradient()) {
        out.add(g.toFloatArray());
      }
    }
    return out;
  }

  private static List<float[]> weights(InternVlModel model) {
    List<float[]> out = new ArrayList<>();
    for (Parameter p : model.trainableParameters()) {
      out.add(p.getArray().toFloatArray());
    }
    return out;
  }

  private static long count(List<float[]> arrays) {
    return arrays.stream().mapToLong(a -> a.length).sum();
  }
}
