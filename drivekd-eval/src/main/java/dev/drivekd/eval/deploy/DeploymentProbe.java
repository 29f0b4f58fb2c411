package dev.drivekd.eval.deploy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.cuda.CudaUtils;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.eval.answer.RecomputingAnswerer;
import dev.drivekd.teachers.torchscript.TorchScriptVlm;
import java.util.Arrays;
import java.util.Collection;
import java.util.OptionalLong;

/**
 * Measures {@link DeploymentFigures} of a model on one prompt: greedy decoding of {@code newTokens}
 * tokens (no stop token, so every run decodes the same number), timed {@code repeats} times after
 * one warm-up, against decoding one token (the time to the first token). Native models decode with
 * their key/value cache; other models recompute the sequence for each token.
 *
 * <p>Peak memory is the process's resident memory since {@link ResidentMemory#resetPeak} (call it
 * before loading the model, in a fresh process, to measure what the paper's "memory" column
 * measures); on a GPU it is the device's used memory after the runs.
 */
public final class DeploymentProbe {

  private DeploymentProbe() {}

  /**
   * Measures {@code model} on {@code prompt}.
   *
   * @param prompt one unpadded prompt on the model's device
   * @param newTokens tokens to decode, at least 2
   * @param repeats timed runs (median), at least 1
   */
  public static DeploymentFigures measure(
      VisionLanguageModel model, VlmBatch prompt, int newTokens, int repeats) {
    if (newTokens < 2 || repeats < 1) {
      throw new IllegalArgumentException(
          "newTokens must be >= 2 and repeats >= 1, got " + newTokens + ", " + repeats);
    }
    boolean cached = model instanceof InternVlModel;
    int vocabulary = model.card().vocabularySize();
    decode(model, prompt, newTokens, vocabulary); // warm-up
    double[] first = new double[repeats];
    double[] total = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      decode(model, prompt, 1, vocabulary);
      long t1 = System.nanoTime();
      decode(model, prompt, newTokens, vocabulary);
      long t2 = System.nanoTime();
      first[r] = (t1 - t0) / 1e6;
      total[r] = (t2 - t1) / 1e6;
    }
    double firstMs = median(first);
    double decodeMs = median(total) - firstMs;
    long[] size = size(model);
    Device device = model.device();
    double peak;
    String kind;
    if (device.isGpu()) {
      kind = "gpu_used";
      peak = CudaUtils.getGpuMemory(device).getCommitted();
    } else {
      kind = "process_rss";
      peak = ResidentMemory.available() ? ResidentMemory.peakBytes() : Double.NaN;
    }
    return new DeploymentFigures(
        model.card().name(),
        size[0],
        size[1],
        prompt.length(),
        newTokens,
        firstMs,
        (newTokens - 1) / (decodeMs / 1e3),
        cached,
        peak,
        kind);
  }

  /** Decodes {@code n} tokens greedily, with the model's cache where it has one. */
  public static long[] decode(VisionLanguageModel model, VlmBatch prompt, int n, int vocabulary) {
    if (model instanceof InternVlModel native_) {
      return native_.generate(prompt, n, OptionalLong.empty(), vocabulary);
    }
    return RecomputingAnswerer.generate(model, prompt, n, OptionalLong.empty(), vocabulary);
  }

  /** Parameters and their bytes, of every parameter of the model. */
  static long[] size(VisionLanguageModel model) {
    Collection<Parameter> parameters;
    if (model instanceof InternVlModel n) {
      parameters = n.namedParameters().values();
    } else if (model instanceof TorchScriptVlm t) {
      parameters = t.parameters();
    } else {
      parameters = model.trainableParameters();
    }
    long count = 0;
    long bytes = 0;
    for (Parameter p : parameters) {
      NDArray a = p.getArray();
      count += a.size();
      bytes += a.size() * a.getDataType().getNumOfBytes();
    }
    return new long[] {count, bytes};
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
