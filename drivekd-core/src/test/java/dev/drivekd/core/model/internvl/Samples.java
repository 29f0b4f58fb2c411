package dev.drivekd.core.model.internvl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.VlmBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Builds small right-padded batches of text and image segments for the model tests. */
final class Samples {

  /** The id written at vision positions (replaced by the model). */
  static final long PLACEHOLDER = 3;

  /** The id written in the padding. */
  static final long PAD = 0;

  private Samples() {}

  /**
   * One segment of a sample: token ids, or an image drawn from {@code seed}.
   *
   * @param ids text ids ({@code null} for an image)
   * @param imageSeed seed of the image's pixels
   * @param supervised whether the text is an answer (labels = ids)
   */
  record Segment(long[] ids, long imageSeed, boolean supervised) {

    static Segment text(long... ids) {
      return new Segment(ids, 0, false);
    }

    static Segment answer(long... ids) {
      return new Segment(ids, 0, true);
    }

    static Segment image(long seed) {
      return new Segment(null, seed, false);
    }

    boolean isImage() {
      return ids == null;
    }
  }

  /** Seeded token ids in {@code [4, vocabulary)}. */
  static long[] ids(long seed, int count, int vocabulary) {
    Random random = new Random(seed);
    long[] out = new long[count];
    for (int i = 0; i < count; i++) {
      out[i] = 4 + random.nextInt(vocabulary - 4);
    }
    return out;
  }

  /** A sample as a list of segments. */
  static List<Segment> sample(Segment... segments) {
    return List.of(segments);
  }

  /** The batch of {@code samples}, right-padded to the longest. */
  static VlmBatch batch(NDManager manager, InternVlConfig config, List<List<Segment>> samples) {
    int perImage = config.tokensPerImage();
    int size = config.vision().imageSize();
    int[] lengths = new int[samples.size()];
    int longest = 0;
    for (int b = 0; b < samples.size(); b++) {
      for (Segment s : samples.get(b)) {
        lengths[b] += s.isImage() ? perImage : s.ids().length;
      }
      longest = Math.max(longest, lengths[b]);
    }
    int batch = samples.size();
    long[] ids = new long[batch * longest];
    Arrays.fill(ids, PAD);
    boolean[][] image = new boolean[batch][longest];
    long[][] labels = new long[batch][longest];
    List<float[]> pixels = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      Arrays.fill(labels[b], TokenLayout.IGNORE_LABEL);
      int pos = 0;
      for (Segment s : samples.get(b)) {
        if (s.isImage()) {
          for (int k = 0; k < perImage; k++, pos++) {
            ids[b * longest + pos] = PLACEHOLDER;
            image[b][pos] = true;
          }
          Random random = new Random(s.imageSeed());
          float[] px = new float[3 * size * size];
          for (int i = 0; i < px.length; i++) {
            px[i] = (float) random.nextGaussian();
          }
          pixels.add(px);
        } else {
          for (long id : s.ids()) {
            ids[b * longest + pos] = id;
            if (s.supervised()) {
              labels[b][pos] = id;
            }
            pos++;
          }
        }
      }
    }
    NDArray pixelValues = null;
    if (!pixels.isEmpty()) {
      float[] all = new float[pixels.size() * 3 * size * size];
      for (int k = 0; k < pixels.size(); k++) {
        System.arraycopy(pixels.get(k), 0, all, k * 3 * size * size, 3 * size * size);
      }
      pixelValues = manager.create(all, new Shape(pixels.size(), 3, size, size));
    }
    TokenLayout layout = TokenLayout.fromLabels(image, labels, lengths);
    return new VlmBatch(manager.create(ids, new Shape(batch, longest)), pixelValues, layout);
  }
}
