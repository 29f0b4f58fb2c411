package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.round;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.eval.deploy.ResidentMemory;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code drivekd bench gradproj}: the cost of Asymmetric Gradient Projection. */
@Command(
    name = "gradproj",
    mixinStandardHelpOptions = true,
    description =
        "Time one AGP combine of K = 4 task gradients against a plain sum of the same gradients"
            + " and against a reference-style implementation, at 1M, 10M and 50M float32"
            + " parameters in about 200 tensors.")
public final class GradprojBench implements Callable<Integer> {

  @Mixin BenchOutput output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--sizes",
      split = ",",
      defaultValue = "1000000,10000000,50000000",
      description = "Parameter counts (default: ${DEFAULT-VALUE}).")
  List<Long> sizes;

  @Option(names = "--tensors", defaultValue = "200", description = "Tensors per model.")
  int tensors;

  @Option(names = "--repeats", defaultValue = "7", description = "Timed repeats (median).")
  int repeats;

  @Option(
      names = "--reference-max",
      defaultValue = "10000000",
      description = "Largest size at which the reference-style anchor runs (it needs ~15 copies).")
  long referenceMax;

  @Option(names = "--memory-only", hidden = true, description = "Child mode: peaks only.")
  boolean memoryOnly;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    if (memoryOnly) {
      return printMemoryOnly();
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    GradprojBenchmark bench =
        new GradprojBenchmark(
            ComputeDevice.select(),
            tensors,
            line -> {
              err.println("[bench] " + line);
              err.flush();
            });
    List<GradprojBenchmark.SizeResult> results = new ArrayList<>();
    for (long n : sizes) {
      results.add(bench.measure(n, repeats, n <= referenceMax));
    }
    results = withPeakMemory(results, bench);
    Map<String, Object> figures = figures(results);
    if (output.json) {
      out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(figures));
    } else {
      printTable(out, results);
    }
    out.flush();
    return 0;
  }

  /**
   * Peak extra memory per size: from a child JVM with the allocator setting (exact), or in this
   * process with {@code --in-process}.
   */
  private List<GradprojBenchmark.SizeResult> withPeakMemory(
      List<GradprojBenchmark.SizeResult> timed, GradprojBenchmark bench) throws Exception {
    List<GradprojBenchmark.SizeResult> out = new ArrayList<>();
    if (!ResidentMemory.available()) {
      return timed;
    }
    JsonNode peaks = null;
    if (!output.inProcess && !MeasuringProcess.active()) {
      List<String> args =
          new ArrayList<>(spec.root().commandLine().getParseResult().originalArgs());
      args.remove("--json");
      args.add("--memory-only");
      peaks = JSON.readTree(MeasuringProcess.run("dev.drivekd.examples.cli.DriveKdCommand", args));
    }
    for (GradprojBenchmark.SizeResult r : timed) {
      double agp;
      double ref;
      if (peaks != null) {
        JsonNode p = peaks.get(Long.toString(r.parameters()));
        agp = p.get(0).asDouble();
        ref = p.get(1).isNull() ? Double.NaN : p.get(1).asDouble();
      } else {
        GradprojBenchmark.SizeResult m =
            bench.measure(r.parameters(), 1, r.parameters() <= referenceMax, true);
        agp = m.agpExtraParamBuffers();
        ref = m.referenceStyleExtraParamBuffers();
      }
      out.add(r.withMemory(agp, ref));
    }
    return out;
  }

  /** Child mode: one line of JSON, parameter count to [AGP peak, reference-style peak]. */
  private int printMemoryOnly() throws Exception {
    GradprojBenchmark bench = new GradprojBenchmark(ComputeDevice.select(), tensors, line -> {});
    Map<String, Object> peaks = new LinkedHashMap<>();
    for (long n : sizes) {
      GradprojBenchmark.SizeResult m = bench.measure(n, 1, n <= referenceMax, true);
      double ref = m.referenceStyleExtraParamBuffers();
      peaks.put(
          Long.toString(n),
          java.util.Arrays.asList(m.agpExtraParamBuffers(), Double.isNaN(ref) ? null : ref));
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(JSON.writeValueAsString(peaks));
    out.flush();
    return 0;
  }

  private Map<String, Object> figures(List<GradprojBenchmark.SizeResult> results) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "gradproj");
    m.put("device", ComputeDevice.select().toString());
    m.put("tasks", GradprojBenchmark.TASKS.length);
    m.put("threads", Runtime.getRuntime().availableProcessors());
    m.put(
        "peak_memory_measured_in",
        output.inProcess ? "this process (undercounts)" : "child process");
    int syncs = 0;
    double extra = 0;
    for (GradprojBenchmark.SizeResult r : results) {
      syncs = Math.max(syncs, r.hostSyncsPerCombine());
      extra = Math.max(extra, r.agpExtraParamBuffers());
      String tag = label(r.parameters());
      m.put("ratio_to_plain_sum_" + tag, round(r.agpMs() / r.plainSumMs()));
      if (!Double.isNaN(r.referenceStyleMs())) {
        m.put("speedup_vs_reference_style_" + tag, round(r.referenceStyleMs() / r.agpMs()));
      }
    }
    m.put("host_syncs_per_combine", syncs);
    m.put("extra_param_sized_buffers", round(extra));
    List<Map<String, Object>> rows = new ArrayList<>();
    results.forEach(r -> rows.add(r.toMap()));
    m.put("sizes", rows);
    return m;
  }

  private static void printTable(PrintWriter out, List<GradprojBenchmark.SizeResult> results) {
    out.println(
        "params      tensors  AGP ms  plain ms  ratio  ref-style ms  speedup  GB/s  syncs"
            + "  ref syncs  extra bufs AGP  extra bufs ref");
    for (GradprojBenchmark.SizeResult r : results) {
      out.printf(
          "%-11s %7d %7.1f %9.1f %6.2f %13s %8s %5.1f %6d %10s %15.2f %15s%n",
          label(r.parameters()),
          r.tensors(),
          r.agpMs(),
          r.plainSumMs(),
          r.agpMs() / r.plainSumMs(),
          Double.isNaN(r.referenceStyleMs()) ? "-" : String.format("%.1f", r.referenceStyleMs()),
          Double.isNaN(r.referenceStyleMs())
              ? "-"
              : String.format("%.1fx", r.referenceStyleMs() / r.agpMs()),
          r.agpGigabytesPerSecond(),
          r.hostSyncsPerCombine(),
          r.referenceStyleHostSyncs() < 0 ? "-" : Long.toString(r.referenceStyleHostSyncs()),
          r.agpExtraParamBuffers(),
          Double.isNaN(r.referenceStyleExtraParamBuffers())
              ? "-"
              : String.format("%.2f", r.referenceStyleExtraParamBuffers()));
    }
  }

  static String label(long n) {
    if (n % 1_000_000 == 0) {
      return (n / 1_000_000) + "m";
    }
    if (n % 1_000 == 0) {
      return (n / 1_000) + "k";
    }
    return Long.toString(n);
  }
}
