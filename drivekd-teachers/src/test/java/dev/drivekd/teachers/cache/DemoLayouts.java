package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.EncodedPrompt;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.testing.ReferenceFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Real token layouts: the reference's demo samples through the word tokenizer and the batch encoder
 * (4 vision tokens per image), right-padded into one batch, as a training batch is laid out.
 */
final class DemoLayouts {
  static final Path DEMO = ReferenceFiles.dataFile("drivekd-reference-demo.json");

  private DemoLayouts() {}

  /** A right-padded batch of the given demo samples. */
  static TokenLayout batch(int... samples) {
    DrivingDataset dataset =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .build()
            .read(DEMO);
    WordTokenizer.Builder vocabulary = WordTokenizer.builder();
    dataset.samples().forEach(s -> vocabulary.addBlocks(s.trainingPrompt()));
    BatchEncoder encoder =
        BatchEncoder.builder()
            .setTokenizer(vocabulary.build())
            .setImagePipeline(ImagePipeline.imageNet(4))
            .setTokensPerImage(4)
            .build();
    List<EncodedPrompt> prompts = new ArrayList<>();
    int longest = 0;
    for (int s : samples) {
      EncodedPrompt p = encoder.tokenize(dataset.get(s).trainingPrompt());
      prompts.add(p);
      longest = Math.max(longest, p.length());
    }
    boolean[][] image = new boolean[samples.length][longest];
    long[][] labels = new long[samples.length][longest];
    int[] lengths = new int[samples.length];
    for (int b = 0; b < samples.length; b++) {
      EncodedPrompt p = prompts.get(b);
      System.arraycopy(p.isImage(), 0, image[b], 0, p.length());
      Arrays.fill(labels[b], TokenLayout.IGNORE_LABEL);
      System.arraycopy(p.labels(), 0, labels[b], 0, p.length());
      lengths[b] = p.length();
    }
    return TokenLayout.fromLabels(image, labels, lengths);
  }
}
