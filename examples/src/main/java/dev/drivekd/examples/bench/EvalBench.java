package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.deleteRecursively;
import static dev.drivekd.examples.bench.BenchSupport.round;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.io.SafeTensors;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.eval.answer.RecomputingAnswerer;
import dev.drivekd.eval.deploy.DeploymentFigures;
import dev.drivekd.eval.deploy.DeploymentProbe;
import dev.drivekd.eval.deploy.ResidentMemory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code drivekd bench eval}: what answering costs. Greedy decoding of the native models with the
 * key/value cache against recomputing the sequence for every token, and against PyTorch eager
 * decoding with its own cache on the same weights and prompt; then the deployment table (the
 * paper's Table 1 columns) of each preset, each measured in a fresh child JVM.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Decode tokens/s of the native models with the key/value cache, without it, and of PyTorch"
          + " eager decoding with a cache on the same weights (tokens checked equal), measured"
          + " side by side; then parameters, weight bytes, peak memory, time to first token and"
          + " decode tokens/s per preset, each in a fresh child JVM, teacher against student."
    })
public final class EvalBench implements Callable<Integer> {

  @Mixin BenchOutput output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--presets",
      split = ",",
      defaultValue = "student-tiny,teacher-small",
      description = "Model presets, the student first (default: ${DEFAULT-VALUE}).")
  List<String> presets;

  @Option(
      names = "--prompt-length",
      defaultValue = "128",
      description = "Prompt tokens, vision positions included (default: ${DEFAULT-VALUE}).")
  int promptLength;

  @Option(
      names = "--new-tokens",
      defaultValue = "128",
      description = "Tokens decoded per answer (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(
      names = "--images",
      defaultValue = "2",
      description = "Images in the prompt (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description = "Timed repeats (median; default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Seed of the models and prompts (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin AnchorOptions anchor;

  @Option(
      names = "--deployment-only",
      hidden = true,
      description = "Child mode: print the deployment figures of this preset as one JSON line.")
  String deploymentOnly;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Decode timings of one preset. */
  record Decoding(
      String preset,
      double cachedFirstMs,
      double cachedTotalMs,
      double uncachedTotalMs,
      double pytorchFirstMs,
      double pytorchTotalMs,
      Boolean tokensEqual) {

    double cachedDecodeMsPerToken(int n) {
      return (cachedTotalMs - cachedFirstMs) / (n - 1);
    }

    double pytorchDecodeMsPerToken(int n) {
      return (pytorchTotalMs - pytorchFirstMs) / (n - 1);
    }

    boolean anchored() {
      return !Double.isNaN(pytorchTotalMs);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (newTokens < 2 || repeats < 1) {
      throw new IllegalArgumentException("--new-tokens must be >= 2 and --repeats >= 1");
    }
    for (String preset : presets) {
      ModelBenchmark.Sample.synthetic(InternVlConfig.preset(preset), promptLength, images, seed);
    }
    anchor.applyThreads();
    Device device = ComputeDevice.select();
    PrintWriter out = spec.commandLine().getOut();
    if (deploymentOnly != null) {
      long before = ResidentMemory.available() ? ResidentMemory.residentBytes() : 0;
      out.println(
          JSON.writeValueAsString(deploymentMap(deployment(deploymentOnly, device), before)));
      out.flush();
      return 0;
    }
    PrintWriter err = spec.commandLine().getErr();
    int libtorchThreads = JniUtils.getNumThreads();
    String whyNoAnchor = anchor.whyNoAnchor();
    progress(err, "libtorch intra-op threads: " + libtorchThreads);
    progress(
        err,
        whyNoAnchor == null
            ? "PyTorch anchor: " + anchor.python + " with " + libtorchThreads + " threads"
            : "PyTorch anchor not measured: " + whyNoAnchor);
    List<Decoding> decodings = new ArrayList<>();
    JsonNode[] anchorInfo = new JsonNode[1];
    for (String preset : presets) {
      decodings.add(
          decoding(preset, device, whyNoAnchor == null, libtorchThreads, err, anchorInfo));
    }
    Map<String, Map<String, Object>> deployment = new LinkedHashMap<>();
    for (String preset : presets) {
      progress(err, "deployment figures of " + preset + " in a child JVM");
      deployment.put(preset, deploymentFigures(preset, device));
    }
    Map<String, Object> figures =
        figures(decodings, deployment, libtorchThreads, whyNoAnchor, anchorInfo[0]);
    if (output.json) {
      out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(figures));
    } else {
      printTable(out, decodings, deployment);
    }
    out.flush();
    return 0;
  }

  private Decoding decoding(
      String preset,
      Device device,
      boolean withAnchor,
      int anchorThreads,
      PrintWriter err,
      JsonNode[] anchorInfo)
      throws IOException {
    InternVlConfig config = InternVlConfig.preset(preset);
    ModelBenchmark.Sample sample =
        ModelBenchmark.Sample.synthetic(config, promptLength, images, seed);
    int vocabulary = config.language().vocabSize();
    try (InternVlModel model = InternVlModel.create(config, device, seed);
        NDManager manager = model.manager().newSubManager()) {
      VlmBatch prompt = sample.batch(manager);
      long[] tokens = model.generate(prompt, newTokens, OptionalLong.empty(), vocabulary);
      long[] recomputed =
          RecomputingAnswerer.generate(model, prompt, newTokens, OptionalLong.empty(), vocabulary);
      if (!Arrays.equals(tokens, recomputed)) {
        throw new IllegalStateException(
            preset + ": decoding with the cache chose other tokens than recomputing the sequence");
      }
      progress(
          err,
          String.format(
              Locale.ROOT,
              "decode %s: prompt %d tokens (%d images), %d new tokens; cached = recomputed tokens",
              preset,
              promptLength,
              sample.images(),
              newTokens));
      List<ModelBenchmark.Step> steps = new ArrayList<>();
      steps.add(
          () ->
              timed(
                  () -> model.generate(prompt, 1, OptionalLong.empty(), vocabulary),
                  () -> model.generate(prompt, newTokens, OptionalLong.empty(), vocabulary)));
      steps.add(
          () ->
              new double[] {
                timed(
                    () ->
                        RecomputingAnswerer.generate(
                            model, prompt, newTokens, OptionalLong.empty(), vocabulary))
              });
      if (!withAnchor) {
        double[][][] t = ModelBenchmark.interleaved(1, 0, repeats, 0, steps);
        double[] cached = ModelBenchmark.medians(t[0]);
        return new Decoding(
            preset,
            cached[0],
            cached[1],
            ModelBenchmark.medians(t[1])[0],
            Double.NaN,
            Double.NaN,
            null);
      }
      Path dir = Files.createTempDirectory("drivekd-bench-eval");
      try {
        model.save(dir);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("input_ids", prompt.inputIds());
        tensors.put("pixel_values", prompt.pixelValues());
        tensors.put("image_mask", manager.create(sample.image(), new Shape(1, promptLength)));
        tensors.put("expected_tokens", manager.create(tokens));
        tensors.put("vocabulary", manager.create(new long[] {vocabulary}));
        SafeTensors.write(dir.resolve("decode.safetensors"), tensors, Map.of("format", "pt"));
        Path script = PyTorchAnchor.extractScript(dir);
        try (PyTorchAnchor pytorch =
            PyTorchAnchor.startDecoding(anchor.python, script, dir, anchorThreads)) {
          JsonNode info = pytorch.info();
          anchorInfo[0] = info;
          boolean equal = info.get("tokens_equal").asBoolean();
          progress(
              err,
              "  PyTorch's tokens "
                  + (equal
                      ? "equal drivekd's"
                      : "differ from position " + info.get("first_difference")));
          steps.add(pytorch::decodeMs);
          double[][][] t = ModelBenchmark.interleaved(1, 0, repeats, 0, steps);
          double[] cached = ModelBenchmark.medians(t[0]);
          double[] torch = ModelBenchmark.medians(t[2]);
          return new Decoding(
              preset,
              cached[0],
              cached[1],
              ModelBenchmark.medians(t[1])[0],
              torch[0],
              torch[1],
              equal);
        }
      } finally {
        deleteRecursively(dir);
      }
    }
  }

  private interface Work {
    Object run();
  }

  private static double timed(Work work) {
    long t0 = System.nanoTime();
    work.run();
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double[] timed(Work first, Work all) {
    return new double[] {timed(first), timed(all)};
  }

  /** Child mode: the deployment figures of one preset, its peak taken from process start. */
  private DeploymentFigures deployment(String preset, Device device) {
    InternVlConfig config = InternVlConfig.preset(preset);
    ModelBenchmark.Sample sample =
        ModelBenchmark.Sample.synthetic(config, promptLength, images, seed);
    if (ResidentMemory.available()) {
      ResidentMemory.resetPeak();
    }
    try (InternVlModel model = InternVlModel.create(config, device, seed);
        NDManager manager = model.manager().newSubManager()) {
      return DeploymentProbe.measure(model, sample.batch(manager), newTokens, repeats);
    }
  }

  private Map<String, Object> deploymentFigures(String preset, Device device) throws Exception {
    if (output.inProcess || MeasuringProcess.active()) {
      long before = ResidentMemory.available() ? ResidentMemory.residentBytes() : 0;
      return deploymentMap(deployment(preset, device), before);
    }
    List<String> args = new ArrayList<>(spec.root().commandLine().getParseResult().originalArgs());
    args.remove("--json");
    args.add("--deployment-only");
    args.add(preset);
    JsonNode node =
        JSON.readTree(
            MeasuringProcess.run(
                "dev.drivekd.examples.cli.DriveKdCommand", ModelBench.CHILD_JVM, args));
    Map<String, Object> m = new LinkedHashMap<>();
    node.fields()
        .forEachRemaining(
            e ->
                m.put(
                    e.getKey(),
                    e.getValue().isNumber() ? e.getValue().numberValue() : e.getValue().asText()));
    return m;
  }

  private static Map<String, Object> deploymentMap(DeploymentFigures f, long residentBefore) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("parameters", f.parameters());
    m.put("weight_mb", round(f.weightBytes() / 1048576.0));
    m.put("peak_memory_mb", round(f.peakMemoryBytes() / 1048576.0));
    m.put("memory_kind", f.memoryKind());
    m.put("prompt_length", f.promptLength());
    m.put("new_tokens", f.newTokens());
    m.put("first_token_ms", round(f.firstTokenMs()));
    m.put("decode_tokens_per_second", round(f.decodeTokensPerSecond()));
    if (residentBefore > 0 && "process_rss".equals(f.memoryKind())) {
      // what loading the model and answering added to the process (JVM and heap excluded)
      m.put("model_memory_mb", round((f.peakMemoryBytes() - residentBefore) / 1048576.0));
    }
    return m;
  }

  private Map<String, Object> figures(
      List<Decoding> decodings,
      Map<String, Map<String, Object>> deployment,
      int libtorchThreads,
      String whyNoAnchor,
      JsonNode anchorInfo) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("threads", libtorchThreads);
    f.put("prompt_length", promptLength);
    f.put("new_tokens", newTokens);
    f.put("repeats", repeats);
    double minSpeedup = Double.POSITIVE_INFINITY;
    double maxRatio = Double.NaN;
    for (Decoding d : decodings) {
      String k = ModelBench.key(d.preset());
      double speedup = d.uncachedTotalMs() / d.cachedTotalMs();
      minSpeedup = Math.min(minSpeedup, speedup);
      f.put("first_token_ms_" + k, round(d.cachedFirstMs()));
      f.put("decode_tokens_per_second_" + k, round(1000 / d.cachedDecodeMsPerToken(newTokens)));
      f.put("uncached_tokens_per_second_" + k, round(newTokens * 1000 / d.uncachedTotalMs()));
      f.put("kv_cache_speedup_" + newTokens + "_tokens_" + k, round(speedup));
      if (d.anchored()) {
        double ratio = d.cachedDecodeMsPerToken(newTokens) / d.pytorchDecodeMsPerToken(newTokens);
        maxRatio = Double.isNaN(maxRatio) ? ratio : Math.max(maxRatio, ratio);
        f.put("pytorch_first_token_ms_" + k, round(d.pytorchFirstMs()));
        f.put(
            "pytorch_decode_tokens_per_second_" + k,
            round(1000 / d.pytorchDecodeMsPerToken(newTokens)));
        f.put("decode_ratio_to_pytorch_" + k, round(ratio));
        f.put("tokens_equal_pytorch_" + k, d.tokensEqual());
      }
    }
    f.put("kv_cache_speedup_" + newTokens + "_tokens", round(minSpeedup));
    if (!Double.isNaN(maxRatio)) {
      f.put("decode_ratio_to_pytorch", round(maxRatio));
      f.put("pytorch", anchorInfo == null ? null : anchorInfo.get("torch").asText());
      f.put("pytorch_blas", anchorInfo == null ? null : anchorInfo.path("blas").asText(null));
    } else {
      f.put("pytorch_skipped", whyNoAnchor);
    }
    f.put("deployment", deployment);
    if (presets.size() >= 2) {
      Map<String, Object> s = deployment.get(presets.get(0));
      Map<String, Object> t = deployment.get(presets.get(presets.size() - 1));
      Map<String, Object> ratios = new LinkedHashMap<>();
      for (String key :
          List.of(
              "parameters",
              "weight_mb",
              "peak_memory_mb",
              "model_memory_mb",
              "first_token_ms",
              "decode_tokens_per_second")) {
        if (!(t.get(key) instanceof Number) || !(s.get(key) instanceof Number)) {
          continue;
        }
        ratios.put(
            key, round(((Number) t.get(key)).doubleValue() / ((Number) s.get(key)).doubleValue()));
      }
      f.put("teacher_to_student", ratios);
    }
    return f;
  }

  private void printTable(
      PrintWriter out, List<Decoding> decodings, Map<String, Map<String, Object>> deployment) {
    out.printf(
        Locale.ROOT,
        "greedy decoding, prompt %d tokens, %d new tokens (median of %d)%n",
        promptLength,
        newTokens,
        repeats);
    out.printf(
        Locale.ROOT,
        "%-14s %12s %12s %12s %10s %12s %10s%n",
        "preset",
        "cached tok/s",
        "uncached",
        "cache gain",
        "1st tok ms",
        "PyTorch tok/s",
        "ratio");
    for (Decoding d : decodings) {
      out.printf(
          Locale.ROOT,
          "%-14s %12.1f %12.1f %11.2fx %10.2f %12s %10s%n",
          d.preset(),
          1000 / d.cachedDecodeMsPerToken(newTokens),
          newTokens * 1000 / d.uncachedTotalMs(),
          d.uncachedTotalMs() / d.cachedTotalMs(),
          d.cachedFirstMs(),
          d.anchored()
              ? String.format(Locale.ROOT, "%.1f", 1000 / d.pytorchDecodeMsPerToken(newTokens))
              : "-",
          d.anchored()
              ? String.format(
                  Locale.ROOT,
                  "%.2fx",
                  d.cachedDecodeMsPerToken(newTokens) / d.pytorchDecodeMsPerToken(newTokens))
              : "-");
    }
    out.println();
    out.println("deployment (each in a fresh JVM):");
    out.printf(
        Locale.ROOT,
        "%-14s %12s %10s %12s %12s %12s%n",
        "preset",
        "parameters",
        "weights MB",
        "peak MB",
        "1st tok ms",
        "tok/s");
    deployment.forEach(
        (preset, m) ->
            out.printf(
                Locale.ROOT,
                "%-14s %12d %10.2f %10.1f %10.1f %12.2f %10.1f%n",
                preset,
                ((Number) m.get("parameters")).longValue(),
                ((Number) m.get("weight_mb")).doubleValue(),
                ((Number) m.get("peak_memory_mb")).doubleValue(),
                ((Number) m.getOrDefault("model_memory_mb", Double.NaN)).doubleValue(),
                ((Number) m.get("first_token_ms")).doubleValue(),
                ((Number) m.get("decode_tokens_per_second")).doubleValue()));
  }

  private static void progress(PrintWriter err, String line) {
    err.println("[bench] " + line);
    err.flush();
  }
}
