package dev.drivekd.examples.bench;

import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.text.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Small helpers the bench commands share. */
final class BenchSupport {

  private BenchSupport() {}

  /** The trainer's encoder for a model: its image size and tokens per image, {@code tokenizer}. */
  static BatchEncoder encoder(Tokenizer tokenizer, ModelCard card) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(card.imageSize()))
        .setModel(card)
        .build();
  }

  /** {@code v} to three decimals, as figures are printed and stored. */
  static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }

  /**
   * Deletes a temporary folder and everything in it, as far as it can: a missing folder is fine,
   * and a file left behind is harmless.
   */
  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // left behind
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
