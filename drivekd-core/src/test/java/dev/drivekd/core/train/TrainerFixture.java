package dev.drivekd.core.train;

import ai.djl.Device;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;

/** A six-sample driving dataset with images, its tokenizer, and tiny native models. */
final class TrainerFixture {

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

  TrainerFixture(Path dir) {
    List<SyntheticDrivingData.Record> records = new ArrayList<>();
    for (String[] s : SAMPLES) {
      records.add(new SyntheticDrivingData.Record(s[0], s[1], s[2]));
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
