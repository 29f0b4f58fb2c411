package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.deleteRecursively;
import static dev.drivekd.examples.bench.BenchSupport.round;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import dev.drivekd.teachers.panel.TeacherPanel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code drivekd bench trainer}: training throughput and peak memory of the Drive-KD step. */
@Command(
    name = "trainer",
    mixinStandardHelpOptions = true,
    description =
        "Samples per second of training the tiny native student with cross-entropy only, with"
            + " three live or cached teachers and the task gradients summed, and with AGP; peak"
            + " memory of the AGP run with live against cached teachers.")
public final class TrainerBench implements Callable<Integer> {

  @Mixin BenchOutput output;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--samples", defaultValue = "24", description = "Samples per epoch.")
  int samples;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description = "Timed epochs per configuration (median), after the warm-up.")
  int repeats;

  @Option(
      names = "--warmup",
      defaultValue = "1",
      description = "Untimed warm-up epochs per configuration.")
  int warmup;

  @Option(
      names = "--accumulation",
      defaultValue = "4",
      description = "Gradient accumulation (samples per optimizer step).")
  int accumulation;

  @Option(
      names = "--memory-repeats",
      defaultValue = "5",
      description = "Child processes per configuration for the peak memory (median).")
  int memoryRepeats;

  @Option(
      names = "--lengths",
      split = ",",
      defaultValue = "128,512,1024",
      description =
          "Sequence lengths of the student-base Drive-KD step with cached teacher-base targets"
              + " (default: ${DEFAULT-VALUE}; 0 for none).")
  int[] lengths;

  @Option(
      names = "--long-samples",
      defaultValue = "3",
      description = "Samples (one per capability in turn) per epoch at those lengths.")
  int longSamples;

  @Option(
      names = "--long-repeats",
      defaultValue = "3",
      description = "Timed epochs per configuration at those lengths (median), after one warm-up.")
  int longRepeats;

  @Option(
      names = "--paper-length",
      defaultValue = "2048",
      description =
          "Length of the peak-memory measurement of one student-base step, CE only and Drive-KD"
              + " with AGP (default: ${DEFAULT-VALUE}; 0 to skip).")
  int paperLength;

  @Option(
      names = "--short",
      description =
          "Only the student-tiny configurations (skip the student-base lengths and the paper"
              + " length).")
  boolean shortOnly;

  @Option(
      names = "--tiny",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Measure the student-tiny configurations (default); --no-tiny runs only the lengths.")
  boolean tiny;

  @Option(names = "--memory-only", hidden = true, description = "Child mode: one peak only.")
  String memoryOnly;

  @Option(names = "--data-dir", hidden = true, description = "Child mode: the dataset.")
  Path dataDir;

  @Option(names = "--cache-dir", hidden = true, description = "Child mode: the target cache.")
  Path cacheDir;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    if (memoryOnly != null) {
      return printMemoryOnly();
    }
    if (samples < 1 || repeats < 1 || accumulation < 1 || warmup < 0 || memoryRepeats < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--samples, --repeats, --memory-repeats and --accumulation must be positive");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path work = Files.createTempDirectory("drivekd-bench-trainer");
    try {
      Map<String, Object> figures =
          tiny ? measure(work, err) : new LinkedHashMap<>(Map.of("benchmark", "trainer"));
      if (!shortOnly) {
        figures.putAll(
            new LongStepFigures(longSamples, longRepeats, line -> progress(err, line))
                .measure(work.resolve("long"), lengths, paperLength));
      }
      if (output.json) {
        out.println(
            JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(figures));
      } else {
        if (tiny) {
          printTable(out, figures);
        }
        LongStepFigures.print(out, figures);
      }
      out.flush();
      return 0;
    } finally {
      deleteRecursively(work);
    }
  }

  private Map<String, Object> measure(Path work, PrintWriter err) throws Exception {
    Path data = work.resolve("data");
    Path cache = work.resolve("cache");
    TrainerBenchmark.writeDataset(data, samples);
    List<TrainerBenchmark.Config> configs = List.of(TrainerBenchmark.Config.values());
    double[] perSecond;
    double cacheSeconds;
    double teacherMb;
    double studentMb;
    try (TrainerBenchmark bench =
        new TrainerBenchmark(
            ComputeDevice.select(),
            data,
            accumulation,
            line -> {
              err.println("[bench] " + line);
              err.flush();
            })) {
      TeacherPanel panel = bench.teachers();
      List<InternVlModel> teachers = new ArrayList<>();
      panel.distinctModels().forEach(m -> teachers.add((InternVlModel) m));
      teacherMb = TrainerBenchmark.weightsMb(teachers);
      InternVlModel card = bench.model(TrainerBenchmark.STUDENT, TrainerBenchmark.STUDENT_SEED);
      studentMb = TrainerBenchmark.weightsMb(List.of(card));
      err.println("[bench] trainer: precomputing the teacher-target cache");
      err.flush();
      // the first build warms the teachers up; the second, timed, is the one trained from
      bench.buildCache(panel, card.card(), work.resolve("cache-warm-up"));
      cacheSeconds = bench.buildCache(panel, card.card(), cache);
      try (CachedTeacherTargets cached = bench.openCache(card.card(), cache)) {
        perSecond = bench.samplesPerSecond(configs, warmup, repeats, panel, cached);
      }
    }
    double peakLive;
    double peakCached;
    if (output.inProcess || MeasuringProcess.active()) {
      try (TrainerBenchmark bench =
          new TrainerBenchmark(ComputeDevice.select(), data, accumulation, line -> {})) {
        peakCached = bench.peakMb(TrainerBenchmark.Config.AGP_CACHED, cache);
        peakLive = bench.peakMb(TrainerBenchmark.Config.AGP_LIVE, cache);
      }
    } else {
      err.println(
          "[bench] trainer: peak memory, child processes ("
              + memoryRepeats
              + " per configuration)");
      err.flush();
      double[] live = new double[memoryRepeats];
      double[] cachedPeaks = new double[memoryRepeats];
      for (int r = 0; r < memoryRepeats; r++) {
        live[r] = childPeak(TrainerBenchmark.Config.AGP_LIVE, data, cache);
        cachedPeaks[r] = childPeak(TrainerBenchmark.Config.AGP_CACHED, data, cache);
      }
      java.util.Arrays.sort(live);
      java.util.Arrays.sort(cachedPeaks);
      peakLive = live[memoryRepeats / 2];
      peakCached = cachedPeaks[memoryRepeats / 2];
    }

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "trainer");
    m.put("date", LocalDate.now().toString());
    m.put("device", ComputeDevice.select().toString());
    m.put("threads", Runtime.getRuntime().availableProcessors());
    m.put("libtorch_threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
    m.put("prefetch", "next micro-step prepared on a second thread (1 libtorch thread)");
    m.put("student", TrainerBenchmark.STUDENT);
    m.put("teachers", "3 x " + TrainerBenchmark.TEACHER + " (seeds 2, 3, 4), one per capability");
    m.put("samples", samples);
    m.put("warmup_epochs", warmup);
    m.put("repeats", repeats);
    m.put("accumulation", accumulation);
    Map<String, Object> rates = new LinkedHashMap<>();
    Map<String, Double> rate = new LinkedHashMap<>();
    for (int i = 0; i < configs.size(); i++) {
      rates.put(configs.get(i).key, round(perSecond[i]));
      rate.put(configs.get(i).key, perSecond[i]);
    }
    m.put("samples_per_second", rates);
    double ce = rate.get("ce");
    double sumLive = rate.get("sum_live");
    double agpLive = rate.get("agp_live");
    double sumCached = rate.get("sum_cached");
    double agpCached = rate.get("agp_cached");
    double onceLive = rate.get("sum_once_live");
    double onceCached = rate.get("sum_once_cached");
    double amortisedCached = rate.get("agp_amortised_cached");
    // ratios of time per sample = inverse ratios of samples per second
    m.put("ratio_agp_to_ce", round(ce / agpLive));
    m.put("ratio_agp_to_sum", round(sumLive / agpLive));
    m.put("ratio_agp_to_ce_cached", round(ce / agpCached));
    m.put("ratio_agp_to_sum_cached", round(sumCached / agpCached));
    m.put("ratio_amortised_agp_to_ce_cached", round(ce / amortisedCached));
    m.put("ratio_amortised_agp_to_agp_cached", round(agpCached / amortisedCached));
    m.put("amortised_refresh_every", TrainerBenchmark.Config.AGP_AMORTISED_CACHED.refreshEvery);
    m.put("ratio_sum_to_ce", round(ce / sumLive));
    m.put("ratio_sum_to_ce_cached", round(ce / sumCached));
    m.put("ratio_agp_to_sum_once", round(onceLive / agpLive));
    m.put("ratio_agp_to_sum_once_cached", round(onceCached / agpCached));
    m.put("ratio_sum_once_to_ce_cached", round(ce / onceCached));
    m.put("speedup_cached_over_live_agp", round(agpCached / agpLive));
    // where the time per sample goes, from differences of the medians (noisy, can be < 0)
    Map<String, Object> split = new LinkedHashMap<>();
    split.put("ce_step", round(1000 / ce));
    split.put("three_soft_losses_one_backward", round(1000 / onceCached - 1000 / ce));
    split.put("three_more_backwards_and_snapshots", round(1000 / sumCached - 1000 / onceCached));
    split.put("agp_over_sum", round(1000 / agpCached - 1000 / sumCached));
    split.put("live_teacher_forwards", round(1000 / agpLive - 1000 / agpCached));
    m.put("ms_per_sample_breakdown", split);
    m.put("cache_build_seconds", round(cacheSeconds));
    m.put(
        "peak_memory_measured_in",
        output.inProcess
            ? "this process (undercounts)"
            : "child processes, pre-touched " + CHILD_HEAP + " heap, median of " + memoryRepeats);
    m.put("peak_mb_live_teachers", round(peakLive));
    m.put("peak_mb_cached_teachers", round(peakCached));
    m.put("teacher_weights_mb", round(teacherMb));
    m.put("student_weights_mb", round(studentMb));
    m.put("goal_agp_at_most_2_5x_ce", ce / agpLive <= 2.5);
    m.put("goal_agp_at_most_2_5x_ce_cached", ce / agpCached <= 2.5);
    m.put("goal_amortised_agp_at_most_1_2x_ce_cached", ce / amortisedCached <= 1.2);
    m.put("goal_cached_saves_teacher_weights", peakLive - peakCached >= teacherMb);
    return m;
  }

  private static void progress(PrintWriter err, String line) {
    err.println("[bench] " + line);
    err.flush();
  }

  private double childPeak(TrainerBenchmark.Config config, Path data, Path cache) throws Exception {
    List<String> args =
        List.of(
            "bench",
            "trainer",
            "--memory-only",
            config.key,
            "--data-dir",
            data.toString(),
            "--cache-dir",
            cache.toString(),
            "--accumulation",
            Integer.toString(accumulation));
    String out = runChild(args);
    return JSON.readTree(out).get("peak_mb").asDouble();
  }

  /**
   * {@link MeasuringProcess#run} with a fixed, pre-touched Java heap ({@link #CHILD_HEAP}): the
   * heap is then resident before the baseline is taken and its growth during the epoch (tens of MB,
   * varying with GC timing) does not enter the peak, which is the native memory the run adds.
   */
  private static String runChild(List<String> args) throws Exception {
    return MeasuringProcess.run(
        "dev.drivekd.examples.cli.DriveKdCommand",
        List.of("-Xms" + CHILD_HEAP, "-Xmx" + CHILD_HEAP, "-XX:+AlwaysPreTouch"),
        args);
  }

  private static final String CHILD_HEAP = "384m";

  /** Child mode: one line of JSON with the peak of one configuration. */
  private int printMemoryOnly() throws Exception {
    TrainerBenchmark.Config config = TrainerBenchmark.Config.of(memoryOnly);
    double peak;
    try (TrainerBenchmark bench =
        new TrainerBenchmark(ComputeDevice.select(), dataDir, accumulation, line -> {})) {
      peak = bench.peakMb(config, cacheDir);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(JSON.writeValueAsString(Map.of("peak_mb", peak)));
    out.flush();
    return 0;
  }

  @SuppressWarnings("unchecked")
  private static void printTable(PrintWriter out, Map<String, Object> f) {
    out.printf(
        "trainer: %s samples per epoch, accumulation %s, median of %s epochs, %s, %s cores,"
            + " %s libtorch threads + 1 prefetch thread%n",
        f.get("samples"),
        f.get("accumulation"),
        f.get("repeats"),
        f.get("device"),
        f.get("threads"),
        f.get("libtorch_threads"));
    out.println("configuration               samples/s   ms/sample   vs CE");
    Map<String, Object> rates = (Map<String, Object>) f.get("samples_per_second");
    double ce = ((Number) rates.get("ce")).doubleValue();
    for (TrainerBenchmark.Config c : TrainerBenchmark.Config.values()) {
      double r = ((Number) rates.get(c.key)).doubleValue();
      out.printf("%-25s %11.2f %11.1f %7.2fx%n", c.label, r, 1000 / r, ce / r);
    }
    out.printf(
        "AGP / CE (time per sample): %s live, %s cached (goal <= 2.5)%n",
        f.get("ratio_agp_to_ce"), f.get("ratio_agp_to_ce_cached"));
    out.printf(
        "AGP / sum: %s live, %s cached%n",
        f.get("ratio_agp_to_sum"), f.get("ratio_agp_to_sum_cached"));
    out.printf(
        "amortised AGP (full combine every %s micro-steps of a kind), cached: %s x CE (goal <= 1.2),"
            + " %s x AGP%n",
        f.get("amortised_refresh_every"),
        f.get("ratio_amortised_agp_to_ce_cached"),
        f.get("ratio_amortised_agp_to_agp_cached"));
    Map<String, Object> split = (Map<String, Object>) f.get("ms_per_sample_breakdown");
    out.println("* benchmark-only loop: the weighted task losses summed, one backward per sample");
    out.printf(
        "ms per sample: CE step %s, + 3 soft losses (one backward) %s, + 3 more backwards %s,"
            + " + AGP %s, + live teacher forwards %s%n",
        split.get("ce_step"),
        split.get("three_soft_losses_one_backward"),
        split.get("three_more_backwards_and_snapshots"),
        split.get("agp_over_sum"),
        split.get("live_teacher_forwards"));
    out.printf("cache build: %s s%n", f.get("cache_build_seconds"));
    out.printf(
        "peak memory of the AGP epoch (%s): %s MB live, %s MB cached; teachers' weights %s MB"
            + " (goal: live - cached >= weights: %s)%n",
        f.get("peak_memory_measured_in"),
        f.get("peak_mb_live_teachers"),
        f.get("peak_mb_cached_teachers"),
        f.get("teacher_weights_mb"),
        f.get("goal_cached_saves_teacher_weights"));
  }
}
