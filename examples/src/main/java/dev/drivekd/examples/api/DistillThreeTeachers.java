package dev.drivekd.examples.api;

import ai.djl.Device;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.engine.CpuThreads;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.listener.MetricsFileListener;
import dev.drivekd.core.train.listener.ProgressBarListener;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The library's main call, written out as a user writes it: a student distilled from one teacher
 * per capability with the paper's recipe (layer-0 and penultimate text-to-vision attention, the
 * intermediate layers' full maps), mixing matrix, dynamic loss weights and AGP, with a progress
 * bar, a metrics file and resumable checkpoints in a run folder.
 *
 * <p>{@code main} runs it on a small synthetic driving dataset with freshly initialised {@code
 * teacher-small} models, so that it runs anywhere in seconds; with your own teachers, load them
 * with {@link InternVlModel#load} (or import TorchScript exports with the teachers module's {@code
 * TorchScriptVlm}) and read your dataset with {@link DrivingDatasetReader}.
 */
public final class DistillThreeTeachers {

  private DistillThreeTeachers() {}

  /**
   * Distils {@code student} from {@code teachers} (capability to model) on {@code dataset}, writing
   * checkpoints and {@code metrics.jsonl} into {@code runDir}; continues a run that {@code runDir}
   * already holds.
   */
  public static TrainingSummary distil(
      VisionLanguageModel student,
      Map<Capability, VisionLanguageModel> teachers,
      DrivingDataset dataset,
      WordTokenizer tokenizer,
      Path runDir,
      int epochs)
      throws IOException {
    Files.createDirectories(runDir);
    BatchEncoder encoder =
        BatchEncoder.builder()
            .setTokenizer(tokenizer)
            .setImagePipeline(ImagePipeline.imageNet(student.card().imageSize()))
            .setModel(student.card())
            .build();
    int accumulation = 4;
    long steps = LrSchedule.totalOptimizerSteps(epochs, dataset.size(), accumulation);
    try (DistillationTrainer trainer =
        DistillationTrainer.builder()
            .setStudent(student)
            .setEncoder(encoder)
            .optTeachers(
                TeacherPanel.of(teachers)) // or CachedTeacherTargets for a precomputed cache
            .optSchedule(LrSchedule.cosine(1e-3, steps, Math.max(1, steps / 10), 0.1))
            .optAccumulation(accumulation)
            .optEpochs(epochs)
            // a checkpoint every 10 optimizer steps; the 3 newest are kept, plus every 100th step
            .optCheckpoints(
                CheckpointStore.builder(runDir.resolve("checkpoints"))
                    .optKeepLast(3)
                    .optKeepEvery(100)
                    .build(),
                10)
            .optResume(true)
            .addListener(ProgressBarListener.onStderr())
            .addListener(new MetricsFileListener(runDir.resolve("metrics.jsonl")))
            .build()) {
      return trainer.fit(dataset);
    }
  }

  /** Writes a synthetic dataset of {@code samples} samples into {@code dir} and reads it. */
  public static DrivingDataset syntheticDataset(Path dir, int samples) {
    String[][] templates = {
      {"perception", "What is in front of the ego car?", "A white truck in the same lane."},
      {"reasoning", "Why does the car slow down?", "Because a pedestrian crosses the road."},
      {"planning", "What should the ego car do next?", "Keep the lane and slow down."},
    };
    List<SyntheticDrivingData.Record> records = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      String[] t = templates[i % templates.length];
      records.add(new SyntheticDrivingData.Record(t[0], t[1], t[2]));
    }
    return SyntheticDrivingData.create(dir, records, 32, 7);
  }

  /**
   * Runs the example: {@code [runDir [epochs]]}, by default a temporary folder and 2 epochs over 12
   * synthetic samples.
   */
  public static void main(String[] args) throws IOException {
    CpuThreads.reserveCoreForPrefetch(); // before the engine starts (see README, "CPU threads")
    Path runDir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("drivekd-run");
    int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    DrivingDataset dataset = syntheticDataset(runDir.resolve("data"), 12);
    WordTokenizer tokenizer = WordTokenizer.builder().addDataset(dataset).build();
    Device device = ComputeDevice.select();
    Map<Capability, VisionLanguageModel> teachers = new EnumMap<>(Capability.class);
    List<InternVlModel> opened = new ArrayList<>();
    try (InternVlModel student = model("student-tiny", tokenizer, device, 1)) {
      long seed = 2;
      for (Capability c : Capability.values()) {
        InternVlModel teacher = model("teacher-small", tokenizer, device, seed++);
        opened.add(teacher);
        teachers.put(c, teacher);
      }
      TrainingSummary summary = distil(student, teachers, dataset, tokenizer, runDir, epochs);
      System.out.printf(
          "%d optimizer steps; mean CE %.3f in the first window, %.3f in the last; run folder %s%n",
          summary.optimizerSteps(),
          summary.meanLoss("ce", 0, 4),
          summary.meanLoss("ce", summary.microSteps() - 4, summary.microSteps()),
          runDir);
    } finally {
      opened.forEach(InternVlModel::close);
    }
  }

  private static InternVlModel model(
      String preset, WordTokenizer tokenizer, Device device, long seed) {
    return InternVlModel.create(
        InternVlConfig.preset(preset).withTokenizer(tokenizer.identity()), device, seed);
  }
}
