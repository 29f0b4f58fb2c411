package dev.drivekd.examples.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.io.SafeTensors;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.eval.deploy.ResidentMemory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * One training step of a native InternVL model on a synthetic {@code B = 1} sample: forward in
 * training mode with the head-averaged maps of some decoder layers, loss = answer-token
 * cross-entropy + {@code Σ mean(map²)} over those layers, backward; each step in its own
 * sub-manager, gradients zeroed between steps (not timed).
 */
final class ModelBenchmark implements AutoCloseable {

  /** The id written at vision positions (the model replaces those embeddings). */
  static final long PLACEHOLDER = 3;

  private static final double MIB = 1024.0 * 1024.0;

  private final InternVlConfig config;
  private final Sample sample;
  private final InternVlModel model;
  private final Engine engine;
  private final NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();

  ModelBenchmark(InternVlConfig config, Sample sample, Device device, long seed) {
    this.config = config;
    this.sample = sample;
    this.engine = ComputeDevice.engine();
    this.model = InternVlModel.create(config, device, seed);
  }

  /**
   * A synthetic sample of exactly {@code length} positions: one text token, {@code images} images
   * ({@code images x tokensPerImage} vision positions), the rest of the prompt, and {@code length /
   * 4} supervised answer tokens at the end.
   */
  record Sample(
      int length,
      int images,
      int tokensPerImage,
      long[] ids,
      boolean[] image,
      long[] labels,
      float[] pixels,
      int imageSize) {

    static Sample synthetic(InternVlConfig config, int length, int maxImages, long seed) {
      int perImage = config.tokensPerImage();
      int answer = Math.max(1, length / 4);
      int images = Math.min(maxImages, (length - answer - 2) / perImage);
      if (images < 1) {
        throw new IllegalArgumentException(
            "length "
                + length
                + " is too short for one image of "
                + perImage
                + " tokens, two prompt tokens and "
                + answer
                + " answer tokens");
      }
      int vocabulary = config.language().vocabSize();
      Random random = new Random(seed * 31 + length);
      long[] ids = new long[length];
      boolean[] image = new boolean[length];
      long[] labels = new long[length];
      Arrays.fill(labels, TokenLayout.IGNORE_LABEL);
      int vision = images * perImage;
      for (int i = 0; i < length; i++) {
        if (i >= 1 && i < 1 + vision) {
          image[i] = true;
          ids[i] = PLACEHOLDER;
        } else {
          ids[i] = 4 + random.nextInt(vocabulary - 4);
          if (i >= length - answer) {
            labels[i] = ids[i];
          }
        }
      }
      int size = config.vision().imageSize();
      float[] pixels = new float[images * 3 * size * size];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = (float) random.nextGaussian();
      }
      return new Sample(length, images, perImage, ids, image, labels, pixels, size);
    }

    int visionPositions() {
      return images * tokensPerImage;
    }

    int answerTokens() {
      return (int) Arrays.stream(labels).filter(l -> l != TokenLayout.IGNORE_LABEL).count();
    }

    /** The sample as a batch in {@code manager}. */
    VlmBatch batch(NDManager manager) {
      TokenLayout layout =
          TokenLayout.fromLabels(
              new boolean[][] {image}, new long[][] {labels}, new int[] {length});
      NDArray pixelValues = manager.create(pixels, new Shape(images, 3, imageSize, imageSize));
      return new VlmBatch(manager.create(ids, new Shape(1, length)), pixelValues, layout);
    }
  }

  /** The trainer's recipe layers: the first, the middle ({@code (N-1)/2}) and {@code N-2}. */
  static int[] recipeLayers(int depth) {
    return IntStream.of(0, (depth - 1) / 2, Math.max(0, depth - 2)).distinct().sorted().toArray();
  }

  /** Every decoder layer. */
  static int[] allLayers(int depth) {
    return IntStream.range(0, depth).toArray();
  }

  InternVlConfig config() {
    return config;
  }

  Sample sample() {
    return sample;
  }

  int depth() {
    return model.card().depth();
  }

  /**
   * One timed step: forward (training) with the loss, then backward and closing the step's
   * sub-manager (what a trainer pays per step). Building the batch before and zeroing the gradients
   * after are not timed.
   *
   * @return {@code [step ms, forward + loss ms]}
   */
  double[] stepMs(int[] layers) {
    NDManager step = model.manager().newSubManager();
    long t0;
    long t1;
    try {
      VlmBatch batch = sample.batch(step);
      t0 = System.nanoTime();
      try (GradientCollector collector = engine.newGradientCollector()) {
        ModelOutput out = model.forward(batch, ForwardRequest.attentionOf(layers), true);
        NDArray loss = loss(out, step);
        t1 = System.nanoTime();
        collector.backward(loss);
      }
    } finally {
      step.close();
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    zeroGradients();
    return new double[] {ms, (t1 - t0) / 1e6};
  }

  /** Cross-entropy on the answer tokens plus {@code Σ mean(map²)} over the maps of {@code out}. */
  private NDArray loss(ModelOutput out, NDManager manager) {
    NDArray loss = crossEntropy.evaluate(out.logits(), out.layout().labels(manager));
    for (NDArray map : out.headAveraged().values()) {
      // the square is not needed by the backward (the mean's gradient does not read it): freed
      // now, as eager PyTorch frees it
      try (NDArray square = map.square()) {
        loss = loss.add(square.mean());
      }
    }
    return loss;
  }

  private void zeroGradients() {
    for (Parameter p : model.trainableParameters()) {
      try (NDArray gradient = p.getArray().getGradient()) {
        gradient.subi(gradient);
      }
    }
  }

  /**
   * Writes what the PyTorch anchor reads into {@code dir}: {@code config.json}, {@code
   * model.safetensors} and {@code batch.safetensors} with this model's logits on the sample.
   *
   * @return drivekd's loss on the sample (no gradient)
   */
  double writeAnchorFiles(Path dir, int[] layers) throws IOException {
    model.save(dir);
    try (NDManager m = model.manager().newSubManager()) {
      VlmBatch batch = sample.batch(m);
      ModelOutput out = model.forward(batch, ForwardRequest.attentionOf(layers), false);
      double loss = loss(out, m).getFloat();
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("input_ids", batch.inputIds());
      tensors.put("pixel_values", batch.pixelValues());
      tensors.put("image_mask", m.create(sample.image(), new Shape(1, sample.length())));
      tensors.put("labels", m.create(sample.labels(), new Shape(1, sample.length())));
      tensors.put("expected_logits", out.logits());
      tensors.put("layers", m.create(Arrays.stream(layers).asLongStream().toArray()));
      SafeTensors.write(dir.resolve("batch.safetensors"), tensors, Map.of("format", "pt"));
      return loss;
    }
  }

  /**
   * The peak rise of resident memory during one step over the resident size just before it, in MiB;
   * {@code NaN} where {@code /proc} cannot tell.
   */
  double peakStepMb(int[] layers) {
    if (!ResidentMemory.available()) {
      return Double.NaN;
    }
    System.gc();
    long base = ResidentMemory.residentBytes();
    ResidentMemory.resetPeak();
    stepMs(layers);
    long peak = ResidentMemory.peakBytes();
    return Math.max(0, peak - base) / MIB;
  }

  /**
   * Peak step memory with no map, the first layer's map and every layer's map, in MiB: after one
   * warm-up step (which allocates the gradient buffers), the median of {@code rounds} measurements
   * of each, taken in turn.
   */
  Map<String, Double> peakMemory(int rounds) {
    stepMs(new int[0]);
    int[][] requests = {new int[0], new int[] {0}, allLayers(depth())};
    double[][] peaks = new double[requests.length][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < requests.length; i++) {
        peaks[i][r] = peakStepMb(requests[i]);
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("no_maps", median(peaks[0]));
    out.put("one_layer", median(peaks[1]));
    out.put("all_layers", median(peaks[2]));
    return out;
  }

  /**
   * Steps timed in turn within each repeat, after {@code warmup} rounds and at least {@code
   * minWarmupMs} of warm-up (the JIT compiles the Java side meanwhile), with a pause of {@code
   * gapMs} before each timed step.
   *
   * @return {@code [step][figure][repeat]}: every figure each step reported in every repeat
   */
  static double[][][] interleaved(
      int warmup, long minWarmupMs, int repeats, long gapMs, List<Step> steps) {
    long start = System.nanoTime();
    for (int w = 0; w < warmup || (System.nanoTime() - start) / 1e6 < minWarmupMs; w++) {
      for (Step s : steps) {
        s.ms();
      }
    }
    double[][][] times = new double[steps.size()][][];
    for (int r = 0; r < repeats; r++) {
      // alternate the order so that neither side always runs right after the other
      for (int k = 0; k < steps.size(); k++) {
        int i = r % 2 == 0 ? k : steps.size() - 1 - k;
        pause(gapMs);
        double[] t = steps.get(i).ms();
        if (times[i] == null) {
          times[i] = new double[t.length][repeats];
        }
        for (int f = 0; f < t.length; f++) {
          times[i][f][r] = t[f];
        }
      }
    }
    return times;
  }

  /** The median of each figure of one step's {@code [figure][repeat]} times. */
  static double[] medians(double[][] times) {
    double[] out = new double[times.length];
    for (int f = 0; f < times.length; f++) {
      out[f] = median(times[f]);
    }
    return out;
  }

  /**
   * The median over repeats of {@code a[r] / b[r]}: each ratio pairs two steps timed next to each
   * other, so that a burst of load on the shared machine moves both or shows as an outlier.
   */
  static double pairedRatio(double[] a, double[] b) {
    double[] ratios = new double[a.length];
    for (int r = 0; r < a.length; r++) {
      ratios[r] = a[r] / b[r];
    }
    return median(ratios);
  }

  /**
   * Sleeps between timed steps: the OpenMP workers of the step before (this process's or the
   * anchor's) spin for a while after their last parallel region, and on a machine with few cores
   * that spinning would be charged to the next step.
   */
  private static void pause(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Something that runs one step and says how long it took: total ms first, then its parts. */
  @FunctionalInterface
  interface Step {
    double[] ms();
  }

  @Override
  public void close() {
    model.close();
  }
}
