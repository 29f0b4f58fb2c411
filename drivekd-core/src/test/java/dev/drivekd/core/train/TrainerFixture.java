package dev.drivekd.core.train;

import ai.djl.Device;
import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
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
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import javax.imageio.ImageIO;

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
    try {
      StringBuilder json = new StringBuilder("[");
      Random random = new Random(7);
      for (int i = 0; i < SAMPLES.length; i++) {
        BufferedImage image = new BufferedImage(24, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
          for (int x = 0; x < 24; x++) {
            image.setRGB(x, y, random.nextInt(1 << 24));
          }
        }
        ImageIO.write(image, "png", dir.resolve("cam" + i + ".png").toFile());
        json.append(i == 0 ? "" : ",")
            .append("{\"messages\":[{\"role\":\"user\",\"content\":\"<image>")
            .append(SAMPLES[i][1])
            .append("\"},{\"role\":\"assistant\",\"content\":\"")
            .append(SAMPLES[i][2])
            .append("\"}],\"images\":[\"cam")
            .append(i)
            .append(".png\"],\"question_type\":\"")
            .append(SAMPLES[i][0])
            .append("\"}");
      }
      json.append("]");
      Path file = dir.resolve("data.json");
      Files.writeString(file, json, StandardCharsets.UTF_8);
      dataset = DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
      tokenizer = WordTokenizer.builder().addDataset(dataset).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
