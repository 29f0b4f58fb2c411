package dev.drivekd.core.testing;

import ai.djl.Device;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.SyntheticDrivingData;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A six-sample driving dataset (two per capability, one 24 x 24 noise image each), its word
 * tokenizer, and tiny native models that share it: the set-up of the trainer's and the teachers'
 * tests.
 */
public class TinyDriving {

  /** Capability, question, answer. */
  public static final String[][] SAMPLES = {
    {"perception", "What is in front of the ego car?", "A white truck."},
    {"perception", "Is the traffic light red?", "Yes, it is red."},
    {"reasoning", "Why does the car slow down?", "Because a pedestrian crosses."},
    {"reasoning", "Is the lane change safe?", "No, a car is close behind."},
    {"planning", "What should the ego car do next?", "Keep the lane and slow down."},
    {"planning", "Can the ego car turn left now?", "No, wait for the gap."},
  };

  public final DrivingDataset dataset;
  public final WordTokenizer tokenizer;

  /** {@link #SAMPLES}, written into {@code dir}. */
  public TinyDriving(Path dir) {
    this(dir, SAMPLES);
  }

  /** The same images with other questions and answers (another dataset file). */
  public TinyDriving(Path dir, String[][] samples) {
    List<SyntheticDrivingData.Record> records = new ArrayList<>();
    for (String[] s : samples) {
      records.add(new SyntheticDrivingData.Record(s[0], s[1], s[2]));
    }
    dataset = SyntheticDrivingData.create(dir, records, 24, 7);
    tokenizer = WordTokenizer.builder().addDataset(dataset).build();
  }

  /** A fresh model of {@code preset} with this tokenizer, on the CPU. */
  public InternVlModel model(String preset, long seed) {
    InternVlConfig config = InternVlConfig.preset(preset).withTokenizer(tokenizer.identity());
    return InternVlModel.create(config, Device.cpu(), seed);
  }

  /**
   * A teacher whose attention is far from uniform (a wide initialisation), so that attention
   * targets carry information a freshly initialised student does not have.
   */
  public InternVlModel teacher(long seed) {
    InternVlConfig base =
        InternVlConfig.preset("teacher-small").withTokenizer(tokenizer.identity());
    InternVlConfig sharp =
        new InternVlConfig(
            base.name(), base.tokenizer(), 0.5, base.vision(), base.projector(), base.language());
    return InternVlModel.create(sharp, Device.cpu(), seed);
  }

  /**
   * Static loss weights that make the attention losses matter on these tiny models: their MSEs are
   * ~1e-3 against a CE of ~4, so each is weighted 10^4 against CE's 1.
   */
  public static Map<String, Double> strongAttentionWeights() {
    return Map.of(
        "ce", 1.0,
        "p:first_att_Atv", 10000.0,
        "r:intermediate", 10000.0,
        "d:penult_att_Atv", 10000.0);
  }

  /** The batch encoder for a model of {@code card} with this tokenizer. */
  public BatchEncoder encoder(ModelCard card) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(card.imageSize()))
        .setModel(card)
        .build();
  }
}
