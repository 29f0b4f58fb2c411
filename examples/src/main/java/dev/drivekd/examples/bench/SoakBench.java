package dev.drivekd.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.train.DistillationTrainer;
import dev.drivekd.core.train.TeacherTargets;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.listener.DistillationListener;
import dev.drivekd.core.train.listener.MicroStepReport;
import dev.drivekd.eval.deploy.ResidentMemory;
import dev.drivekd.gradproj.GradientProjection;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code drivekd bench soak}: a long Drive-KD run of the tiny student with three live teachers and
 * AGP, then the same with cached targets, each in a child JVM with the allocator setting of {@link
 * MeasuringProcess}: the managed arrays, the resident memory and the step time over the run.
 */
@Command(
    name = "soak",
    mixinStandardHelpOptions = true,
    description =
        "Trains student-tiny for many micro-steps with three teacher-small teachers and AGP (live,"
            + " then cached targets), each in a child JVM, and reports whether the native arrays,"
            + " the resident memory and the step time stay flat.")
public final class SoakBench implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Option(names = "--steps", defaultValue = "10000", description = "Micro-steps per run.")
  int steps;

  @Option(
      names = "--warmup",
      defaultValue = "0",
      description = "Micro-steps before the baseline (default: a tenth of --steps).")
  int warmup;

  @Option(
      names = "--modes",
      split = ",",
      defaultValue = "live,cached",
      description = "Teacher modes to soak, in turn (default: ${DEFAULT-VALUE}).")
  List<String> modes;

  @Option(names = "--only", hidden = true, description = "Child mode: live or cached.")
  String only;

  @Option(names = "--data-dir", hidden = true, description = "Child mode: the dataset.")
  Path dataDir;

  @Option(names = "--cache-dir", hidden = true, description = "Child mode: the target cache.")
  Path cacheDir;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Samples per epoch of the synthetic dataset. */
  private static final int SAMPLES = 24;

  @Override
  public Integer call() throws Exception {
    if (steps < 20) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be >= 20");
    }
    int warm = warmup > 0 ? warmup : Math.max(10, steps / 10);
    if (only != null) {
      Map<String, Object> f = soak(only.equals("cached"), warm);
      spec.commandLine().getOut().println(JSON.writeValueAsString(f));
      spec.commandLine().getOut().flush();
      return 0;
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path work = Files.createTempDirectory("drivekd-bench-soak");
    try {
      Path data = work.resolve("data");
      Path cache = work.resolve("cache");
      TrainerBenchmark.writeDataset(data, SAMPLES);
      try (TrainerBenchmark bench =
          new TrainerBenchmark(ComputeDevice.select(), data, 1, line -> {})) {
        InternVlModel card = bench.model(TrainerBenchmark.STUDENT, TrainerBenchmark.STUDENT_SEED);
        bench.buildCache(bench.teachers(), card.card(), cache);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("benchmark", "soak");
      m.put("steps", steps);
      m.put("warmup_steps", warm);
      m.put("student", TrainerBenchmark.STUDENT);
      m.put("teachers", "3 x " + TrainerBenchmark.TEACHER + ", AGP, accumulation 1");
      for (String mode : modes) {
        if (!mode.equals("live") && !mode.equals("cached")) {
          throw new CommandLine.ParameterException(
              spec.commandLine(), "--modes takes live and cached, not " + mode);
        }
        err.println("[bench] soak: " + steps + " micro-steps, " + mode + " teachers, child JVM");
        err.flush();
        String line =
            MeasuringProcess.run(
                ChildRun.MAIN,
                List.of(
                    "bench",
                    "soak",
                    "--only",
                    mode,
                    "--steps",
                    Integer.toString(steps),
                    "--warmup",
                    Integer.toString(warm),
                    "--data-dir",
                    data.toString(),
                    "--cache-dir",
                    cache.toString()));
        m.put(mode, JSON.readValue(line.strip(), Map.class));
      }
      if (json) {
        out.println(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
      } else {
        for (String mode : modes) {
          @SuppressWarnings("unchecked")
          Map<String, Object> f = (Map<String, Object>) m.get(mode);
          out.printf(
              "%s: arrays %s -> %s, resident memory +%s MiB after warm-up, step ms first/last"
                  + " block %s / %s (ratio %s), skipped %s%n",
              mode,
              f.get("arrays_after_warmup"),
              f.get("arrays_at_end"),
              f.get("rss_growth_mb"),
              f.get("first_block_ms_per_step"),
              f.get("last_block_ms_per_step"),
              f.get("last_to_first_block_ratio"),
              f.get("skipped_updates"));
        }
      }
      out.flush();
      return 0;
    } finally {
      BenchSupport.deleteRecursively(work);
    }
  }

  /**
   * Child mode: one run of {@code steps} micro-steps (epochs over the dataset), measured at every
   * micro-step: the student's managed arrays after the warm-up and at the end, the resident memory
   * then, and the mean step time of the first and last block (a tenth of the run each, the first
   * block starting after the warm-up).
   */
  private Map<String, Object> soak(boolean cached, int warm) throws Exception {
    int epochs = (steps + SAMPLES - 1) / SAMPLES;
    long[] stepNanos = new long[epochs * SAMPLES];
    long[] marks = new long[2]; // arrays and resident bytes after the warm-up
    List<Integer> arraysTrace = new ArrayList<>();
    try (TrainerBenchmark bench =
        new TrainerBenchmark(ComputeDevice.select(), dataDir, 1, line -> {})) {
      InternVlModel student = bench.model(TrainerBenchmark.STUDENT, TrainerBenchmark.STUDENT_SEED);
      TeacherTargets teachers =
          cached ? bench.openCache(student.card(), cacheDir) : bench.teachers();
      int[] count = {0};
      long[] last = {System.nanoTime()};
      DistillationListener probe =
          new DistillationListener() {
            @Override
            public void onMicroStep(MicroStepReport report) {
              long now = System.nanoTime();
              int i = count[0]++;
              stepNanos[i] = now - last[0];
              last[0] = now;
              if (i + 1 == warm) {
                System.gc();
                marks[0] = student.manager().getManagedArrays().size();
                marks[1] = ResidentMemory.available() ? ResidentMemory.residentBytes() : 0;
              }
              if ((i + 1) % Math.max(1, steps / 20) == 0) {
                arraysTrace.add(student.manager().getManagedArrays().size());
              }
            }
          };
      TrainingSummary summary;
      try (DistillationTrainer trainer =
          DistillationTrainer.builder()
              .setStudent(student)
              .setEncoder(bench.encoder(student.card()))
              .optTeachers(cached ? teachers : new TrainerBenchmark.Unclosed(teachers))
              .optAccumulation(1)
              .optEpochs(epochs)
              .optSeed(TrainerBenchmark.TRAINER_SEED)
              .optProjection(GradientProjection.agp())
              .addListener(probe)
              .build()) {
        summary = trainer.fit(bench.dataset);
      }
      System.gc();
      long arraysEnd = student.manager().getManagedArrays().size();
      long rssEnd = ResidentMemory.available() ? ResidentMemory.residentBytes() : 0;
      int n = count[0];
      int block = Math.max(1, (n - warm) / 10);
      double first = meanMs(stepNanos, warm, warm + block);
      double lastBlock = meanMs(stepNanos, n - block, n);
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("micro_steps", n);
      f.put("arrays_after_warmup", marks[0]);
      f.put("arrays_at_end", arraysEnd);
      f.put("arrays_trace", arraysTrace);
      f.put(
          "rss_growth_mb",
          ResidentMemory.available()
              ? BenchSupport.round((rssEnd - marks[1]) / (1024.0 * 1024.0))
              : Double.NaN);
      List<Double> trace = new ArrayList<>();
      int twentieth = Math.max(1, n / 20);
      for (int from = 0; from + twentieth <= n; from += twentieth) {
        trace.add(BenchSupport.round(meanMs(stepNanos, from, from + twentieth)));
      }
      f.put("step_ms_trace", trace);
      f.put("first_block_ms_per_step", BenchSupport.round(first));
      f.put("last_block_ms_per_step", BenchSupport.round(lastBlock));
      f.put("last_to_first_block_ratio", BenchSupport.round(lastBlock / first));
      f.put("block_steps", block);
      f.put("skipped_updates", summary.skippedUpdates());
      f.put("goal_arrays_flat", arraysEnd == marks[0]);
      f.put("goal_rss_growth_under_50_mb", (rssEnd - marks[1]) < 50L * 1024 * 1024);
      f.put("goal_step_time_within_10_percent", Math.abs(lastBlock / first - 1) <= 0.10);
      return f;
    }
  }

  private static double meanMs(long[] nanos, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += nanos[i];
    }
    return sum / 1e6 / Math.max(1, to - from);
  }
}
