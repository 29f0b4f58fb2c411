package dev.drivekd.eval.study;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.progress.ConsoleProgress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs the paper's four layer-selection pre-studies on a model (pre-studies.md, with drivekd's
 * definitions where the paper gives none) and suggests a layer per capability.
 *
 * <p>Each sample runs once through the model (training prompt, so the answer span is there for the
 * margin) with every layer's head-averaged map and every hidden state; the device returns them, and
 * the statistics over samples are computed on the host with ND4J: row-wise cosines, pooled maps,
 * Gram matrices of the pooled signals for the pairwise similarities, dispersion around the mean.
 * One sample at a time, so that the host holds at most one sample's layers plus the pooled signals.
 *
 * <p>Suggestions (drivekd's reading of the paper's figure, reported with their evidence, never
 * asserted): perception from the early layer (first half) that changes its input most (lowest
 * adjacent similarity: the strongest early transformation); reasoning from the intermediate layers
 * (neither the first nor the last two) whose reasoning intra-group similarity stays within {@value
 * #PLATEAU} of its highest; planning from the late layer (second half, the last excluded) where
 * vision-text similarity peaks.
 */
public final class LayerStudy {

  /** How far below its peak the reasoning plateau may fall. */
  public static final double PLATEAU = 0.02;

  private final VisionLanguageModel model;
  private final BatchEncoder encoder;
  private final int poolRows;
  private final int poolColumns;
  private final int marginBins;
  private final double temperature;

  /**
   * A study of {@code model}, prompts made by {@code encoder}: text-to-vision blocks pooled to 8 x
   * 16 cells, full maps to 16 x 16, the answer span in 10 bins, temperature 1.
   */
  public LayerStudy(VisionLanguageModel model, BatchEncoder encoder) {
    this(model, encoder, 8, 16, 10, 1.0);
  }

  /**
   * A study with other pooling, bins or temperature.
   *
   * @param poolRows text rows of the pooled text-to-vision block
   * @param poolColumns vision columns of the pooled block
   * @param marginBins position bins of the answer span
   * @param temperature the margin's softmax temperature
   */
  public LayerStudy(
      VisionLanguageModel model,
      BatchEncoder encoder,
      int poolRows,
      int poolColumns,
      int marginBins,
      double temperature) {
    if (poolRows < 1 || poolColumns < 1 || marginBins < 1 || !(temperature > 0)) {
      throw new IllegalArgumentException("pool sizes and bins must be >= 1, temperature > 0");
    }
    this.model = model;
    this.encoder = encoder;
    this.poolRows = poolRows;
    this.poolColumns = poolColumns;
    this.marginBins = marginBins;
    this.temperature = temperature;
  }

  /**
   * Studies the model on {@code driving} (grouped by capability for the intra-group similarity) and
   * computes the margin on it and on every further named set (the paper contrasts driving and
   * general data).
   *
   * @param driving the driving samples; every capability needs at least two
   * @param otherSets further sets for the margin only, by name (may be empty)
   * @throws IllegalArgumentException when a capability has fewer than two samples
   */
  public LayerStudyResult run(
      List<DrivingSample> driving, Map<String, List<DrivingSample>> otherSets) {
    Map<Capability, Integer> counts = new EnumMap<>(Capability.class);
    for (Capability c : Capability.values()) {
      counts.put(c, (int) driving.stream().filter(s -> s.capability() == c).count());
      if (counts.get(c) < 2) {
        throw new IllegalArgumentException(
            "the intra-group similarity needs at least two samples per capability; "
                + c.key()
                + " has "
                + counts.get(c));
      }
    }
    int depth = model.card().depth();
    int[] allLayers = IntStream.range(0, depth).toArray();
    double[] adjacent = new double[depth];
    double[] visionText = new double[depth];
    // per layer, rows of samples: pooled mean hidden state, pooled full map, pooled t->v block
    // per sample [N, d]: token-mean output state, pooled full map, pooled t->v block
    List<INDArray> pooledHidden = new ArrayList<>();
    List<INDArray> pooledMaps = new ArrayList<>();
    Map<Capability, List<INDArray>> blocks = new EnumMap<>(Capability.class);
    for (Capability c : Capability.values()) {
      blocks.put(c, new ArrayList<>());
    }
    long forwardNanos = 0;
    long statisticsNanos = 0;
    // ND4J loads its native backend on first use: outside the timed statistics
    Nd4j.create(new float[] {1f}, new long[] {1}, 'c').sumNumber();
    double[] marginSums = new double[marginBins];
    long[] marginCounts = new long[marginBins];
    int withVision = 0;
    try (ConsoleProgress progress =
        ConsoleProgress.onStderr("layer study of " + model.card().name(), driving.size(), 0)) {
      int done = 0;
      for (DrivingSample sample : driving) {
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
          VlmBatch batch =
              encoder.encodeSamples(manager, List.of(sample), BatchEncoder.PromptMode.TRAINING);
          long t0 = System.nanoTime();
          ModelOutput out =
              model.forward(batch, ForwardRequest.attentionOf(allLayers).withHiddenStates(), false);
          out.logits().toFloatArray(); // wait for the device: the forward ends here
          long t1 = System.nanoTime();
          forwardNanos += t1 - t0;
          TokenLayout layout = batch.layout();
          int length = layout.length(0);
          int[] vision = IntStream.range(0, length).filter(i -> layout.isImage(0, i)).toArray();
          int[] text = IntStream.range(0, length).filter(i -> layout.isText(0, i)).toArray();
          // every layer at once: [N+1, L, D] states and [N, L, L] maps, one copy each
          INDArray states = host(NDArrays.concat(new NDList(out.hiddenStates())));
          INDArray maps = host(NDArrays.concat(new NDList(out.headAveraged().values())));
          INDArray outputs = SampleSignals.layers(states, 1, depth + 1);
          add(adjacent, SampleSignals.rowCosines(SampleSignals.layers(states, 0, depth), outputs));
          if (vision.length > 0 && text.length > 0) {
            add(
                visionText,
                SampleSignals.rowwiseCosine(
                    SampleSignals.weightedRows(outputs, SampleSignals.meanWeights(vision, length)),
                    SampleSignals.weightedRows(outputs, SampleSignals.meanWeights(text, length))));
            withVision++;
          }
          int[] all = IntStream.range(0, length).toArray();
          pooledHidden.add(
              SampleSignals.weightedRows(outputs, SampleSignals.meanWeights(all, length)));
          pooledMaps.add(SampleSignals.pooledMaps(maps, 16));
          INDArray block = SampleSignals.pooledTextToVision(maps, layout, poolRows, poolColumns);
          if (block != null) {
            blocks.get(sample.capability()).add(block);
          }
          margin(out.logits(), batch, marginSums, marginCounts);
          statisticsNanos += System.nanoTime() - t1;
        }
        progress.update(++done);
      }
    }
    int n = driving.size();
    for (int l = 0; l < depth; l++) {
      adjacent[l] /= n;
      visionText[l] = withVision == 0 ? Double.NaN : visionText[l] / withVision;
    }
    long s0 = System.nanoTime();
    double[] hiddenDispersion = new double[depth];
    double[] attentionDispersion = new double[depth];
    INDArray hidden = Nd4j.stack(0, pooledHidden.toArray(new INDArray[0]));
    INDArray mapped = Nd4j.stack(0, pooledMaps.toArray(new INDArray[0]));
    for (int l = 0; l < depth; l++) {
      hiddenDispersion[l] = SampleSignals.dispersion(layer(hidden, l));
      attentionDispersion[l] = SampleSignals.dispersion(layer(mapped, l));
    }
    Map<Capability, double[]> intra = new EnumMap<>(Capability.class);
    for (Capability c : Capability.values()) {
      double[] s = new double[depth];
      List<INDArray> rows = blocks.get(c);
      INDArray stacked = rows.size() < 2 ? null : Nd4j.stack(0, rows.toArray(new INDArray[0]));
      for (int l = 0; l < depth; l++) {
        s[l] = stacked == null ? Double.NaN : SampleSignals.meanPairwiseCosine(layer(stacked, l));
      }
      intra.put(c, s);
    }
    statisticsNanos += System.nanoTime() - s0;
    Map<String, double[]> margins = new LinkedHashMap<>();
    margins.put("driving", ratio(marginSums, marginCounts));
    for (Map.Entry<String, List<DrivingSample>> e : otherSets.entrySet()) {
      double[] sums = new double[marginBins];
      long[] countsPerBin = new long[marginBins];
      for (DrivingSample sample : e.getValue()) {
        try (NDManager manager = NDManager.newBaseManager(model.device())) {
          VlmBatch batch =
              encoder.encodeSamples(manager, List.of(sample), BatchEncoder.PromptMode.TRAINING);
          margin(
              model.forward(batch, ForwardRequest.logitsOnly(), false).logits(),
              batch,
              sums,
              countsPerBin);
        }
      }
      margins.put(e.getKey(), ratio(sums, countsPerBin));
    }
    return new LayerStudyResult(
        model.card().name(),
        depth,
        counts,
        adjacent,
        visionText,
        intra,
        hiddenDispersion,
        attentionDispersion,
        margins,
        temperature,
        suggest(depth, adjacent, visionText, intra),
        forwardNanos / 1e9,
        statisticsNanos / 1e9);
  }

  /** Adds each answer token's margin to its position bin. */
  private void margin(NDArray logits, VlmBatch batch, double[] sums, long[] counts) {
    TokenLayout layout = batch.layout();
    int length = layout.length(0);
    int[] answer = IntStream.range(1, length).filter(i -> layout.isSupervised(0, i)).toArray();
    if (answer.length == 0) {
      return;
    }
    long[] ids = batch.inputIds().toLongArray();
    try (NDManager scratch = logits.getManager().newSubManager()) {
      NDArray rows =
          logits
              .get("0")
              .get(
                  new ai.djl.ndarray.index.NDIndex(
                      "{}", scratch.create(IntStream.of(answer).map(i -> i - 1).toArray())));
      float[] p = rows.div(temperature).softmax(-1).toFloatArray(); // no graph
      int vocabulary = (int) (p.length / answer.length);
      for (int k = 0; k < answer.length; k++) {
        int correct = (int) ids[answer[k]];
        double pc = p[k * vocabulary + correct];
        double other = 0;
        for (int v = 0; v < vocabulary; v++) {
          if (v != correct) {
            other = Math.max(other, p[k * vocabulary + v]);
          }
        }
        int bin = Math.min(marginBins - 1, (int) ((double) k / answer.length * marginBins));
        sums[bin] += pc - other;
        counts[bin]++;
      }
    }
  }

  private static double[] ratio(double[] sums, long[] counts) {
    double[] out = new double[sums.length];
    for (int i = 0; i < sums.length; i++) {
      out[i] = counts[i] == 0 ? Double.NaN : sums[i] / counts[i];
    }
    return out;
  }

  /** A device array on the host, same shape. */
  private static INDArray host(NDArray array) {
    return Nd4j.create(array.toFloatArray(), array.getShape().getShape(), 'c');
  }

  /** Layer {@code l} of per-sample rows {@code [S, N, d]}: {@code [S, d]}. */
  private static INDArray layer(INDArray stacked, int l) {
    return stacked
        .get(
            org.nd4j.linalg.indexing.NDArrayIndex.all(),
            org.nd4j.linalg.indexing.NDArrayIndex.point(l),
            org.nd4j.linalg.indexing.NDArrayIndex.all())
        .dup('c');
  }

  private static void add(double[] sums, double[] values) {
    for (int i = 0; i < sums.length; i++) {
      sums[i] += values[i];
    }
  }

  static Map<Capability, LayerStudyResult.Suggestion> suggest(
      int depth, double[] adjacent, double[] visionText, Map<Capability, double[]> intra) {
    Map<Capability, LayerStudyResult.Suggestion> out = new EnumMap<>(Capability.class);
    int half = Math.max(1, depth / 2);
    int perception = 0;
    for (int l = 1; l < half; l++) {
      if (adjacent[l] < adjacent[perception]) {
        perception = l;
      }
    }
    out.put(
        Capability.PERCEPTION,
        new LayerStudyResult.Suggestion(
            List.of(perception),
            "the first-half layer with the lowest adjacent similarity",
            String.format(
                Locale.ROOT,
                "adjacent similarity %.3f at layer %d (first half: %s)",
                adjacent[perception],
                perception,
                range(adjacent, 0, half))));
    double[] reasoning = intra.get(Capability.REASONING);
    int lo = Math.min(1, depth - 1);
    int hi = Math.max(lo, depth - 3);
    double peak = Double.NEGATIVE_INFINITY;
    for (int l = lo; l <= hi; l++) {
      if (!Double.isNaN(reasoning[l])) {
        peak = Math.max(peak, reasoning[l]);
      }
    }
    List<Integer> plateau = new ArrayList<>();
    for (int l = lo; l <= hi; l++) {
      if (!Double.isNaN(reasoning[l]) && reasoning[l] >= peak - PLATEAU) {
        plateau.add(l);
      }
    }
    out.put(
        Capability.REASONING,
        new LayerStudyResult.Suggestion(
            plateau,
            "the intermediate layers whose reasoning intra-group similarity is within "
                + PLATEAU
                + " of its peak",
            String.format(
                Locale.ROOT,
                "peak %.3f over layers %d-%d: %s",
                peak,
                lo,
                hi,
                range(reasoning, lo, hi + 1))));
    int start = Math.min(depth - 1, depth / 2);
    int end = Math.max(start, depth - 2);
    int planning = start;
    for (int l = start; l <= end; l++) {
      if (visionText[l] > visionText[planning]) {
        planning = l;
      }
    }
    out.put(
        Capability.PLANNING,
        new LayerStudyResult.Suggestion(
            List.of(planning),
            "the second-half layer (the last excluded) with the highest vision-text similarity",
            String.format(
                Locale.ROOT,
                "vision-text similarity %.3f at layer %d (layers %d-%d: %s)",
                visionText[planning],
                planning,
                start,
                end,
                range(visionText, start, end + 1))));
    return out;
  }

  private static String range(double[] values, int from, int to) {
    StringBuilder sb = new StringBuilder("[");
    for (int l = from; l < to; l++) {
      sb.append(l > from ? ", " : "").append(String.format(Locale.ROOT, "%.3f", values[l]));
    }
    return sb.append(']').toString();
  }
}
