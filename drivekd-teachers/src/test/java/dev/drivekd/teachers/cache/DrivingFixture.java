package dev.drivekd.teachers.cache;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A six-sample driving dataset with one camera image each, its word tokenizer and tiny native
 * models: a copy of drivekd-core's {@code TrainerFixture} (core's test classes are not visible
 * here), so that the trainer runs here exactly as in core's trainer tests.
 */
final class DrivingFixture {

  static final String[][] SAMPLES = {
    {"perception", "What is in front of the ego car?", "A white truck."},
    {"perception", "Is the traffic light red?", "Yes, it is red."},
    {"reasoning", "Why does the car slow down?", "Because a pedestrian crosses."},
    {"reasoning", "Is the lane change safe?", "No, a car is close behind."},
    {"planning", "What should the ego car do next?", "Keep the lane and slow down."},
    {"planning", "Can the ego car turn left now?", "No, wait for the gap."},
  };

  final DrivingDataset dataset;
  final WordTokenizer tokenizer;

  DrivingFixture(Path dir) {
    this(dir, SAMPLES);
  }

  /** The fixture's images with other questions and answers (another dataset file). */
  DrivingFixture(Path dir, String[][] samples) {
    List<SyntheticDrivingData.Record> records = new ArrayList<>();
    for (String[] sample : samples) {
      records.add(new SyntheticDrivingData.Record(sample[0], sample[1], sample[2]));
    }
    Path file = SyntheticDrivingData.write(dir, records, 24, 7);
    dataset = DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
    tokenizer = WordTokenizer.builder().addDataset(dataset).build();
  }

  InternVlModel model(String preset, long seed) {
    InternVlConfig config = InternVlConfig.preset(preset).withTokenizer(tokenizer.identity());
    return InternVlModel.create(config, Device.cpu(), seed);
  }

  /**
   * A teacher whose attention is far from uniform (a wide initialisation), so that attention
   * targets carry information a freshly initialised student does not have.
   */
  InternVlModel teacher(long seed) {
    InternVlConfig base =
        InternVlConfig.preset("teacher-small").withTokenizer(tokenizer.identity());
    InternVlConfig sharp =
        new InternVlConfig(
            base.name(), base.tokenizer(), 0.5, base.vision(), base.projector(), base.language());
    return InternVlModel.create(sharp, Device.cpu(), seed);
  }

  BatchEncoder encoder(ModelCard card) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(card.imageSize()))
        .setModel(card)
        .build();
  }

  /** Every parameter's values, in the model's fixed order. */
  static List<float[]> weights(InternVlModel model) {
    List<float[]> out = new ArrayList<>();
    for (Parameter p : model.namedParameters().values()) {
      out.add(p.getArray().toFloatArray());
    }
    return out;
  }

  /** A teacher seen through the model contract only, counting its forwards and their layers. */
  static final class CountingModel implements VisionLanguageModel {
    final VisionLanguageModel inner;
    final List<SortedSet<Integer>> requests = new ArrayList<>();

    CountingModel(VisionLanguageModel inner) {
      this.inner = inner;
    }

    @Override
    public ModelCard card() {
      return inner.card();
    }

    @Override
    public Device device() {
      return inner.device();
    }

    @Override
    public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
      SortedSet<Integer> layers = new TreeSet<>();
      for (int l : request.layers()) {
        layers.add(l);
      }
      requests.add(layers);
      return inner.forward(batch, request, training);
    }

    @Override
    public List<Parameter> trainableParameters() {
      return inner.trainableParameters();
    }

    @Override
    public void freeze(boolean frozen) {
      inner.freeze(frozen);
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
