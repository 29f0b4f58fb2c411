package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.deleteRecursively;
import static dev.drivekd.examples.bench.BenchSupport.round;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.eval.deploy.ResidentMemory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code drivekd bench model}: one training step of the native model against PyTorch eager. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = {
      "Time one training step of the native InternVL model (forward with the head-averaged maps"
          + " of layers 0, (N-1)/2 and N-2, answer-token cross-entropy + sum of mean(map^2),"
          + " backward) per preset and sequence length, side by side with the same model rebuilt"
          + " in PyTorch eager when a Python with torch is available; and the peak memory of a step"
          + " that keeps one layer's map against one that keeps every layer's map."
    })
public final class ModelBench implements Callable<Integer> {

  @Mixin BenchOutput output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Largest tolerated logit difference between drivekd and the anchor. */
  static final double PARITY_TOLERANCE = 1e-3;

  /**
   * Options of the memory-measuring child: a fixed Java heap, touched at start, so that resident
   * memory moves only with native (tensor) memory and not with the Java heap's growth.
   */
  static final List<String> CHILD_JVM = List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");

  /** Measurements of each peak (median). */
  static final int MEMORY_ROUNDS = 3;

  @Option(
      names = "--presets",
      split = ",",
      defaultValue = "student-tiny,teacher-small",
      description = "Model presets (default: ${DEFAULT-VALUE}).")
  List<String> presets;

  @Option(
      names = "--lengths",
      split = ",",
      defaultValue = "64,128,256",
      description = "Sequence lengths L (default: ${DEFAULT-VALUE}).")
  List<Integer> lengths;

  @Option(
      names = "--repeats",
      defaultValue = "7",
      description = "Timed repeats (median; default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--warmup",
      defaultValue = "3",
      description = "Untimed warm-up rounds (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--warmup-ms",
      defaultValue = "1000",
      description =
          "Least warm-up time per preset and length; the first case also warms drivekd up alone"
              + " for three times as long, while the JIT compiles the Java side"
              + " (default: ${DEFAULT-VALUE}).")
  long warmupMs;

  @Option(
      names = "--gap-ms",
      defaultValue = "20",
      description =
          "Pause before each timed step, so that the threads of the step before have gone to"
              + " sleep (default: ${DEFAULT-VALUE}).")
  long gapMs;

  @Option(
      names = "--images",
      defaultValue = "2",
      description = "Images per sample, fewer when L is too short (default: ${DEFAULT-VALUE}).")
  int images;

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Seed of the models and samples (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin AnchorOptions anchor;

  @Option(
      names = "--memory-preset",
      defaultValue = "teacher-small",
      description = "Preset of the peak-memory measurement (default: ${DEFAULT-VALUE}).")
  String memoryPreset;

  @Option(
      names = "--memory-length",
      defaultValue = "256",
      description = "Sequence length of the peak-memory measurement (default: ${DEFAULT-VALUE}).")
  int memoryLength;

  @Option(
      names = "--trace",
      hidden = true,
      description =
          "Write libtorch profiler traces of a few drivekd steps per case into this folder.")
  Path trace;

  @Option(names = "--memory-only", hidden = true, description = "Child mode: peaks only.")
  boolean memoryOnly;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--no-step-peaks",
      description =
          "Do not measure each case's step peak memory beside the PyTorch anchor's (3 more steps"
              + " per side; run with MALLOC_MMAP_THRESHOLD_=65536 in the environment so that both"
              + " processes return freed memory and the peaks are not undercounted).")
  boolean noStepPeaks;

  private boolean jitWarm;

  /** Per case tag: drivekd's and PyTorch's step peak (MiB, medians of 3), side by side. */
  private final Map<String, double[]> stepPeaks = new LinkedHashMap<>();

  /** The figures of one preset and length. */
  record CaseResult(
      String preset,
      int length,
      int images,
      int visionPositions,
      int answerTokens,
      int[] layers,
      long parameters,
      double stepMs,
      double forwardMs,
      double noMapsStepMs,
      double mapsCost,
      double pytorchStepMs,
      double pytorchForwardMs,
      double ratio,
      double maxAbsLogitDiff,
      double loss,
      double pytorchLoss) {

    boolean anchored() {
      return !Double.isNaN(pytorchStepMs);
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("preset", preset);
      m.put("length", length);
      m.put("images", images);
      m.put("vision_positions", visionPositions);
      m.put("answer_tokens", answerTokens);
      m.put("layers", layers);
      m.put("parameters", parameters);
      m.put("step_ms", round(stepMs));
      m.put("forward_ms", round(forwardMs));
      m.put("backward_ms", round(stepMs - forwardMs));
      m.put("no_maps_step_ms", round(noMapsStepMs));
      m.put("maps_to_no_maps", round(mapsCost));
      if (anchored()) {
        m.put("pytorch_step_ms", round(pytorchStepMs));
        m.put("pytorch_forward_ms", round(pytorchForwardMs));
        m.put("pytorch_backward_ms", round(pytorchStepMs - pytorchForwardMs));
        m.put("ratio_to_pytorch", round(ratio));
        m.put("ratio_of_medians", round(stepMs / pytorchStepMs));
        m.put("max_abs_logit_diff", maxAbsLogitDiff);
        m.put("loss", loss);
        m.put("pytorch_loss", pytorchLoss);
      }
      return m;
    }
  }

  /** The anchor's logits are not drivekd's: the comparison would be void. */
  static final class AnchorMismatch extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AnchorMismatch(String message) {
      super(message);
    }
  }

  @Override
  public Integer call() throws Exception {
    // unknown presets and impossible lengths fail before anything is measured
    for (String preset : presets) {
      for (int length : lengths) {
        ModelBenchmark.Sample.synthetic(InternVlConfig.preset(preset), length, images, seed);
      }
    }
    ModelBenchmark.Sample.synthetic(
        InternVlConfig.preset(memoryPreset), memoryLength, images, seed);
    if (repeats < 1) {
      throw new IllegalArgumentException("--repeats must be at least 1, got " + repeats);
    }
    Device device = ComputeDevice.select();
    String threadSource = anchor.applyThreads();
    if (memoryOnly) {
      return printMemoryOnly(device);
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    int libtorchThreads = JniUtils.getNumThreads();
    progress(err, "libtorch intra-op threads: " + libtorchThreads + " (" + threadSource + ")");
    String whyNoAnchor = anchor.whyNoAnchor();
    if (whyNoAnchor != null) {
      progress(err, "PyTorch anchor not measured: " + whyNoAnchor);
    } else {
      progress(err, "PyTorch anchor: " + anchor.python + " with " + libtorchThreads + " threads");
    }
    List<CaseResult> results = new ArrayList<>();
    JsonNode anchorInfo = null;
    try {
      for (String preset : presets) {
        InternVlConfig config = InternVlConfig.preset(preset);
        for (int length : lengths) {
          JsonNode[] info = new JsonNode[1];
          results.add(
              measure(config, length, device, whyNoAnchor == null, libtorchThreads, err, info));
          if (info[0] != null) {
            anchorInfo = info[0];
          }
        }
      }
    } catch (AnchorMismatch e) {
      err.println("drivekd: " + e.getMessage());
      err.flush();
      return 1;
    }
    Map<String, Double> peaks = peakMemory(device, err);
    Map<String, Object> figures =
        figures(results, peaks, libtorchThreads, threadSource, whyNoAnchor, anchorInfo);
    if (output.json) {
      out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(figures));
    } else {
      printTable(out, results, peaks, libtorchThreads, whyNoAnchor, anchorInfo);
    }
    out.flush();
    return 0;
  }

  private CaseResult measure(
      InternVlConfig config,
      int length,
      Device device,
      boolean withAnchor,
      int anchorThreads,
      PrintWriter err,
      JsonNode[] anchorInfo)
      throws IOException {
    ModelBenchmark.Sample sample = ModelBenchmark.Sample.synthetic(config, length, images, seed);
    try (ModelBenchmark bench = new ModelBenchmark(config, sample, device, seed)) {
      int[] layers = ModelBenchmark.recipeLayers(bench.depth());
      progress(
          err,
          String.format(
              "model %s L=%d (%d images, %d answer tokens), maps of layers %s%s",
              config.name(),
              length,
              sample.images(),
              sample.answerTokens(),
              Arrays.toString(layers),
              withAnchor ? ", interleaved with PyTorch" : ""));
      if (trace != null) {
        Files.createDirectories(trace);
        for (int i = 0; i < 5; i++) {
          bench.stepMs(layers);
        }
        JniUtils.startProfile(false, true, false);
        for (int i = 0; i < 5; i++) {
          bench.stepMs(layers);
        }
        JniUtils.stopProfile(
            trace.resolve("drivekd-" + config.name() + "-l" + length + ".json").toString());
        bench.writeAnchorFiles(trace.resolve(config.name() + "-l" + length), layers);
      }
      if (!jitWarm) {
        // the first case also pays for the JIT compiling the Java side: warm it up alone first
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1e6 < 3 * warmupMs) {
          bench.stepMs(layers);
        }
        jitWarm = true;
      }
      // drivekd with and without maps, side by side; then (below) drivekd and PyTorch. Two steps
      // per phase, in ABBA order, so that each follows itself and the other equally often.
      double[][][] own =
          ModelBenchmark.interleaved(
              warmup,
              warmupMs,
              repeats,
              gapMs,
              List.of(() -> bench.stepMs(layers), () -> bench.stepMs(new int[0])));
      if (!withAnchor) {
        return result(config, sample, layers, own, null, Double.NaN, Double.NaN, Double.NaN);
      }
      Path dir = Files.createTempDirectory("drivekd-bench-model");
      try {
        double loss = bench.writeAnchorFiles(dir, layers);
        Path script = PyTorchAnchor.extractScript(dir);
        try (PyTorchAnchor pytorch =
            PyTorchAnchor.start(anchor.python, script, dir, anchorThreads)) {
          JsonNode info = pytorch.info();
          anchorInfo[0] = info;
          double diff = info.get("max_abs_logit_diff").asDouble();
          if (!(diff <= PARITY_TOLERANCE)) {
            throw new AnchorMismatch(
                String.format(
                    "the PyTorch anchor's logits differ from drivekd's by %.3g (> %.0e) on %s"
                        + " L=%d: it is not the same model, so its timing would not compare"
                        + " like with like (script %s)",
                    diff, PARITY_TOLERANCE, config.name(), length, PyTorchAnchor.SCRIPT));
          }
          progress(
              err,
              String.format(
                  "  parity: max |logit diff| %.2e, loss %.6f (drivekd) vs %.6f (PyTorch)",
                  diff, loss, info.get("loss").asDouble()));
          double[][][] pair =
              ModelBenchmark.interleaved(
                  warmup,
                  warmupMs,
                  repeats,
                  gapMs,
                  List.of(() -> bench.stepMs(layers), pytorch::stepMs));
          if (!noStepPeaks && ResidentMemory.available()) {
            double[] mine = new double[3];
            double[] theirs = new double[3];
            for (int r = 0; r < 3; r++) {
              mine[r] = bench.peakStepMb(layers);
              theirs[r] = pytorch.peakStepMb();
            }
            double[] peaks = {ModelBenchmark.median(mine), ModelBenchmark.median(theirs)};
            stepPeaks.put(key(config.name()) + "_l" + length, peaks);
            progress(
                err,
                String.format(
                    "  step peak memory: drivekd %.1f MiB, PyTorch %.1f MiB", peaks[0], peaks[1]));
          }
          return result(config, sample, layers, own, pair, diff, loss, info.get("loss").asDouble());
        }
      } finally {
        deleteRecursively(dir);
      }
    }
  }

  /**
   * The figures of one case from its timings {@code [step][figure][repeat]}: {@code own} holds
   * drivekd with maps (0) and without (1), {@code pair} (null without the anchor) drivekd with maps
   * (0) and PyTorch (1).
   */
  private static CaseResult result(
      InternVlConfig config,
      ModelBenchmark.Sample sample,
      int[] layers,
      double[][][] own,
      double[][][] pair,
      double diff,
      double loss,
      double pytorchLoss) {
    boolean anchored = pair != null;
    double[] drivekd = ModelBenchmark.medians(anchored ? pair[0] : own[0]);
    double[] noMaps = ModelBenchmark.medians(own[1]);
    double[] pytorch = anchored ? ModelBenchmark.medians(pair[1]) : null;
    return new CaseResult(
        config.name(),
        sample.length(),
        sample.images(),
        sample.visionPositions(),
        sample.answerTokens(),
        layers,
        config.parameterCount(),
        drivekd[0],
        drivekd[1],
        noMaps[0],
        ModelBenchmark.pairedRatio(own[0][0], own[1][0]),
        anchored ? pytorch[0] : Double.NaN,
        anchored ? pytorch[1] : Double.NaN,
        anchored ? ModelBenchmark.pairedRatio(pair[0][0], pair[1][0]) : Double.NaN,
        diff,
        loss,
        pytorchLoss);
  }

  /** Peaks from a child JVM with the allocator setting, or in this process with --in-process. */
  private Map<String, Double> peakMemory(Device device, PrintWriter err) throws Exception {
    if (!ResidentMemory.available()) {
      progress(err, "peak memory not measured: /proc/self/status or clear_refs is not usable");
      return null;
    }
    progress(
        err,
        String.format(
            "peak memory: %s L=%d, no map / one layer / all layers, %s",
            memoryPreset, memoryLength, output.inProcess ? "in this process" : "in a child JVM"));
    if (output.inProcess || MeasuringProcess.active()) {
      return memoryPeaks(device);
    }
    List<String> args = new ArrayList<>(spec.root().commandLine().getParseResult().originalArgs());
    args.remove("--json");
    args.add("--memory-only");
    JsonNode peaks =
        JSON.readTree(
            MeasuringProcess.run("dev.drivekd.examples.cli.DriveKdCommand", CHILD_JVM, args));
    Map<String, Double> out = new LinkedHashMap<>();
    peaks.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asDouble()));
    return out;
  }

  private Map<String, Double> memoryPeaks(Device device) {
    InternVlConfig config = InternVlConfig.preset(memoryPreset);
    ModelBenchmark.Sample sample =
        ModelBenchmark.Sample.synthetic(config, memoryLength, images, seed);
    try (ModelBenchmark bench = new ModelBenchmark(config, sample, device, seed)) {
      return bench.peakMemory(MEMORY_ROUNDS);
    }
  }

  /** Child mode: one line of JSON, {no_maps, one_layer, all_layers} in MiB. */
  private int printMemoryOnly(Device device) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    out.println(JSON.writeValueAsString(memoryPeaks(device)));
    out.flush();
    return 0;
  }

  private Map<String, Object> figures(
      List<CaseResult> results,
      Map<String, Double> peaks,
      int libtorchThreads,
      String threadSource,
      String whyNoAnchor,
      JsonNode anchorInfo) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "model");
    m.put("date", LocalDate.now().toString());
    m.put("device", ComputeDevice.select().toString());
    m.put("threads", libtorchThreads);
    m.put("threads_from", threadSource);
    m.put("repeats", repeats);
    m.put("step", "forward(training) + CE + sum mean(map^2) + backward + sub-manager close");
    m.put("anchor_measured", whyNoAnchor == null);
    if (whyNoAnchor != null) {
      m.put("anchor_not_measured_because", whyNoAnchor);
    } else if (anchorInfo != null) {
      m.put("python", anchor.python);
      m.put("torch_version", anchorInfo.get("torch").asText());
      m.put("torch_threads", anchorInfo.get("threads").asInt());
      JsonNode blas = anchorInfo.get("blas");
      m.put("torch_blas", blas == null || blas.isNull() ? null : blas.asText());
    }
    double maxDiff = 0;
    for (CaseResult r : results) {
      String tag = key(r.preset()) + "_l" + r.length();
      m.put("step_ms_" + tag, round(r.stepMs()));
      double[] stepPeak = stepPeaks.get(tag);
      if (stepPeak != null) {
        m.put("peak_mb_" + tag, round(stepPeak[0]));
        m.put("pytorch_peak_mb_" + tag, round(stepPeak[1]));
        // below a MiB both sides reused freed memory: no ratio
        m.put(
            "peak_mb_ratio_to_pytorch_" + tag,
            stepPeak[1] >= 1 ? round(stepPeak[0] / stepPeak[1]) : null);
        m.put(
            "step_peaks_allocator",
            MeasuringProcess.active()
                ? "both processes return freed blocks (" + MeasuringProcess.THRESHOLD_VARIABLE + ")"
                : "glibc default in both processes: peaks undercount; set "
                    + MeasuringProcess.THRESHOLD_VARIABLE
                    + "=65536 for both");
      }
      if (r.anchored()) {
        m.put("pytorch_step_ms_" + tag, round(r.pytorchStepMs()));
        m.put("ratio_to_pytorch_" + tag, round(r.ratio()));
        maxDiff = Math.max(maxDiff, r.maxAbsLogitDiff());
        if (r.preset().equals("student-tiny")) {
          m.put("ratio_to_pytorch_l" + r.length(), round(r.ratio()));
        }
      }
    }
    if (whyNoAnchor == null && !results.isEmpty()) {
      m.put("max_abs_logit_diff", maxDiff);
    }
    if (peaks != null) {
      m.put("peak_memory_preset", memoryPreset);
      m.put("peak_memory_length", memoryLength);
      m.put(
          "peak_memory_measured_in",
          output.inProcess ? "this process (undercounts)" : "child process");
      m.put("peak_mb_no_maps", round(peaks.get("no_maps")));
      m.put("peak_mb_one_layer_maps", round(peaks.get("one_layer")));
      m.put("peak_mb_all_layer_maps", round(peaks.get("all_layers")));
    }
    m.put("cases", results.stream().map(CaseResult::toMap).collect(Collectors.toList()));
    return m;
  }

  private void printTable(
      PrintWriter out,
      List<CaseResult> results,
      Map<String, Double> peaks,
      int libtorchThreads,
      String whyNoAnchor,
      JsonNode anchorInfo) {
    out.println(
        "preset          L  images  answer  layers   drivekd ms (fwd)  no maps ms"
            + "  PyTorch ms (fwd)  ratio  logit diff");
    for (CaseResult r : results) {
      out.printf(
          "%-13s %4d %7d %7d  %-7s %9.1f (%5.1f) %11.1f %11s (%5s) %6s %11s%n",
          r.preset(),
          r.length(),
          r.images(),
          r.answerTokens(),
          Arrays.stream(r.layers()).mapToObj(Integer::toString).collect(Collectors.joining(",")),
          r.stepMs(),
          r.forwardMs(),
          r.noMapsStepMs(),
          r.anchored() ? String.format("%.1f", r.pytorchStepMs()) : "-",
          r.anchored() ? String.format("%.1f", r.pytorchForwardMs()) : "-",
          r.anchored() ? String.format("%.2f", r.ratio()) : "-",
          r.anchored() ? String.format("%.1e", r.maxAbsLogitDiff()) : "-");
    }
    out.printf("libtorch intra-op threads: %d%n", libtorchThreads);
    if (whyNoAnchor != null) {
      out.println("PyTorch anchor not measured: " + whyNoAnchor);
    } else if (anchorInfo != null) {
      out.printf(
          "PyTorch %s (%s), %d threads, BLAS %s%n",
          anchorInfo.get("torch").asText(),
          anchor.python,
          anchorInfo.get("threads").asInt(),
          anchorInfo.path("blas").asText("unknown"));
    }
    if (peaks != null) {
      out.printf(
          "peak memory of a training step, %s L=%d (MiB over the resident size before it):"
              + " no map %.1f, one layer's map %.1f, all layers' maps %.1f%n",
          memoryPreset,
          memoryLength,
          peaks.get("no_maps"),
          peaks.get("one_layer"),
          peaks.get("all_layers"));
    }
  }

  private static void progress(PrintWriter err, String line) {
    err.println("[bench] " + line);
    err.flush();
  }

  static String key(String preset) {
    return preset.replace('-', '_');
  }
}
