package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.round;

import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.teachers.cache.CachedTeacherTargets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The {@code bench trainer} figures of the Drive-KD step at the shapes users train ({@link
 * LongStepBenchmark}): per length {@code L}, {@code ratio_agp_to_ce_cached_<student>_l<L>}, {@code
 * loss_share_l<L>} (the attention losses' forward and backward over the AGP step's time per
 * sample), the AGP step's phase split and both steps' peak memory, the step that reuses AGP's loss
 * multipliers and the amortised mean over a refresh interval ({@code
 * ratio_amortised_agp_to_ce_cached_<student>_l<L>}, T = 8); at the paper's length one step of each,
 * its peak memory beside what the maps it holds cost.
 */
final class LongStepFigures {

  private static final double MIB = 1024.0 * 1024.0;

  private final int samples;
  private final int repeats;
  private final Consumer<String> progress;

  LongStepFigures(int samples, int repeats, Consumer<String> progress) {
    if (samples < 1 || repeats < 1) {
      throw new IllegalArgumentException("--long-samples and --long-repeats must be positive");
    }
    this.samples = samples;
    this.repeats = repeats;
    this.progress = progress;
  }

  Map<String, Object> measure(Path work, int[] lengths, int paperLength) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(
        "long_peak_memory",
        "rise of this process's resident memory over its size before the trainer is built (the"
            + " trainer's buffers, AdamW's state, the steps); run with MALLOC_MMAP_THRESHOLD_=65536");
    for (int length : lengths) {
      if (length > 0) {
        m.putAll(atLength(work.resolve("l" + length), length));
      }
    }
    if (paperLength > 0) {
      m.putAll(atPaperLength(work.resolve("paper-l" + paperLength), paperLength));
    }
    return m;
  }

  private Map<String, Object> atLength(Path dir, int length) {
    String tag = "_l" + length;
    String student = "_" + LongStepBenchmark.studentFor(length).replace('-', '_') + tag;
    Map<String, Object> m = new LinkedHashMap<>();
    try (LongStepBenchmark bench =
        new LongStepBenchmark(
            ComputeDevice.select(), dir.resolve("data"), length, samples, progress)) {
      String name = bench.studentPreset() + " L=" + length;
      InternVlModel reference = bench.model(bench.studentPreset(), LongStepBenchmark.STUDENT_SEED);
      progress.accept(name + ": precomputing " + bench.teacherPreset() + " targets");
      double cacheSeconds = bench.buildCache(reference.card(), dir.resolve("cache"));
      InternVlModel ceStudent = bench.model(bench.studentPreset(), LongStepBenchmark.STUDENT_SEED);
      InternVlModel agpStudent = bench.model(bench.studentPreset(), LongStepBenchmark.STUDENT_SEED);
      InternVlModel reuseStudent =
          bench.model(bench.studentPreset(), LongStepBenchmark.STUDENT_SEED);
      List<Double> reused = new ArrayList<>();
      List<LongStepBenchmark.Epoch> ce = new ArrayList<>();
      List<LongStepBenchmark.Epoch> agp = new ArrayList<>();
      double lossMs;
      try (CachedTeacherTargets cached = bench.openCache(reference.card(), dir.resolve("cache"))) {
        for (int r = -1; r < repeats; r++) {
          progress.accept(name + (r < 0 ? ": warm-up epochs" : ": repeat " + (r + 1)));
          LongStepBenchmark.Epoch c = bench.epoch(ceStudent, null);
          LongStepBenchmark.Epoch a = bench.epoch(agpStudent, cached);
          double u = bench.reusedEpochSeconds(reuseStudent, cached);
          if (r >= 0) {
            ce.add(c);
            agp.add(a);
            reused.add(u);
          }
        }
        progress.accept(name + ": attention losses alone");
        lossMs = bench.attentionLossMs(reference, cached, repeats);
      }
      int n = bench.dataset().size();
      double ceMs = median(ce.stream().mapToDouble(e -> e.seconds() * 1000 / n).toArray());
      double agpMs = median(agp.stream().mapToDouble(e -> e.seconds() * 1000 / n).toArray());
      double reusedMs = median(reused.stream().mapToDouble(sec -> sec * 1000 / n).toArray());
      // a kind's T micro-steps: one full combine and T - 1 reusing its multipliers
      int every = AMORTISED_REFRESH_EVERY;
      double amortisedMs = (agpMs + (every - 1) * reusedMs) / every;
      m.put("setup" + tag, LongStepBenchmark.describe(length, n));
      Map<String, Object> perSample = new LinkedHashMap<>();
      perSample.put("ce", round(ceMs));
      perSample.put("agp_cached", round(agpMs));
      perSample.put("agp_reused_cached", round(reusedMs));
      perSample.put("agp_amortised_cached", round(amortisedMs));
      m.put("ms_per_sample" + student, perSample);
      m.put("ratio_agp_to_ce_cached" + student, round(agpMs / ceMs));
      m.put("ratio_reused_step_to_ce_cached" + student, round(reusedMs / ceMs));
      m.put("ratio_amortised_agp_to_ce_cached" + student, round(amortisedMs / ceMs));
      m.put("ratio_amortised_agp_to_agp_cached" + student, round(amortisedMs / agpMs));
      m.put("attention_losses_ms_per_sample" + tag, round(lossMs));
      m.put("loss_share" + tag, Math.round(lossMs / agpMs * 10000) / 10000.0);
      m.put("phase_ms_per_sample_agp_cached" + student, phases(agp, n));
      m.put("phase_ms_per_sample_ce" + student, phases(ce, n));
      m.put("peak_mb_ce" + student, round(median(peaks(ce))));
      m.put("peak_mb_agp_cached" + student, round(median(peaks(agp))));
      m.put("cache_build_seconds" + tag, round(cacheSeconds));
      m.put("cache_mb_per_sample" + tag, round(folderBytes(dir.resolve("cache")) / MIB / n));
    }
    return m;
  }

  /**
   * One CE-only and one AGP step on one sample of {@code length} tokens, after a warm-up step, and
   * what the maps it holds would cost: every decoder layer's per-head probabilities (what autograd
   * keeps for the softmax's backward, in any eager framework), the head-averaged maps the recipe
   * reads, and the cached teacher targets.
   */
  private Map<String, Object> atPaperLength(Path dir, int length) {
    String tag = "_l" + length;
    String student = "_" + LongStepBenchmark.studentFor(length).replace('-', '_') + tag;
    Map<String, Object> m = new LinkedHashMap<>();
    try (LongStepBenchmark bench =
        new LongStepBenchmark(ComputeDevice.select(), dir.resolve("data"), length, 1, progress)) {
      String name = bench.studentPreset() + " L=" + length;
      InternVlModel model = bench.model(bench.studentPreset(), LongStepBenchmark.STUDENT_SEED);
      progress.accept(name + ": precomputing " + bench.teacherPreset() + " targets");
      bench.buildCache(model.card(), dir.resolve("cache"));
      LongStepBenchmark.Epoch ce;
      LongStepBenchmark.Epoch agp;
      progress.accept(name + ": a warm-up step, then one CE step and one AGP step");
      try (CachedTeacherTargets cached = bench.openCache(model.card(), dir.resolve("cache"))) {
        // the first step allocates what every later one reuses (the gradient buffers, the
        // rotary tables and mask of this length): not part of either step's peak
        bench.epoch(model, null);
        ce = bench.epoch(model, null);
        agp = bench.epoch(model, cached);
      }
      InternVlConfig config = InternVlConfig.preset(bench.studentPreset());
      long depth = config.language().numHiddenLayers();
      long heads = config.language().numAttentionHeads();
      double map = (double) length * length * Float.BYTES;
      Map<String, Object> held = new LinkedHashMap<>();
      held.put("per_head_probabilities_all_layers", round(depth * heads * map / MIB));
      held.put("head_averaged_all_layers", round(depth * map / MIB));
      held.put("cached_teacher_targets", round(folderBytes(dir.resolve("cache")) / MIB));
      m.put("setup" + tag, LongStepBenchmark.describe(length, 1));
      m.put("step_seconds_ce" + student, round(ce.seconds()));
      m.put("step_seconds_agp_cached" + student, round(agp.seconds()));
      m.put("peak_mb_ce" + student, round(ce.peakMb()));
      m.put("peak_mb_agp_cached" + student, round(agp.peakMb()));
      m.put("maps_mb" + tag, held);
    }
    return m;
  }

  private static Map<String, Object> phases(List<LongStepBenchmark.Epoch> epochs, int n) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String key : epochs.get(0).phaseSeconds().keySet()) {
      out.put(
          key,
          round(
              median(
                  epochs.stream()
                      .mapToDouble(e -> e.phaseSeconds().get(key) * 1000 / n)
                      .toArray())));
    }
    return out;
  }

  private static double[] peaks(List<LongStepBenchmark.Epoch> epochs) {
    return epochs.stream().mapToDouble(LongStepBenchmark.Epoch::peakMb).toArray();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static long folderBytes(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              })
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The human-readable lines of these figures, when present. */
  /** The refresh interval the amortised figures are for (issue 16's T). */
  static final int AMORTISED_REFRESH_EVERY = 8;

  @SuppressWarnings("unchecked")
  static void print(PrintWriter out, Map<String, Object> f) {
    boolean header = false;
    for (String key : f.keySet()) {
      if (!key.startsWith("loss_share_l")) {
        continue;
      }
      String tag = key.substring("loss_share".length());
      String student = "";
      for (String k : f.keySet()) {
        if (k.startsWith("ratio_agp_to_ce_cached_") && k.endsWith(tag)) {
          student = k.substring("ratio_agp_to_ce_cached".length());
        }
      }
      if (!header) {
        out.println(
            "Drive-KD step, 3 cached teachers:      L   CE ms/sample  AGP ms/sample  AGP/CE"
                + "  loss share  peak MiB CE / AGP");
        header = true;
      }
      Map<String, Object> ms = (Map<String, Object>) f.get("ms_per_sample" + student);
      out.printf(
          "%-30s %7s %13s %14s %7s %11s  %s / %s%n",
          ((Map<String, Object>) f.get("setup" + tag)).get("student"),
          tag.substring(2),
          ms.get("ce"),
          ms.get("agp_cached"),
          f.get("ratio_agp_to_ce_cached" + student),
          f.get(key),
          f.get("peak_mb_ce" + student),
          f.get("peak_mb_agp_cached" + student));
      out.println(
          "  AGP phases, ms per sample: " + f.get("phase_ms_per_sample_agp_cached" + student));
      out.printf(
          "  amortised AGP (T = %d): reused step %s ms/sample (%s x CE), T-step mean %s x CE,"
              + " %s x AGP%n",
          AMORTISED_REFRESH_EVERY,
          ms.get("agp_reused_cached"),
          f.get("ratio_reused_step_to_ce_cached" + student),
          f.get("ratio_amortised_agp_to_ce_cached" + student),
          f.get("ratio_amortised_agp_to_agp_cached" + student));
    }
    for (String key : f.keySet()) {
      if (key.startsWith("maps_mb_l")) {
        String tag = key.substring("maps_mb".length());
        String student =
            "_"
                + LongStepBenchmark.studentFor(Integer.parseInt(tag.substring(2))).replace('-', '_')
                + tag;
        out.printf(
            "one step at L=%s: peak %s MiB CE, %s MiB AGP; maps: %s%n",
            tag.substring(2),
            f.get("peak_mb_ce" + student),
            f.get("peak_mb_agp_cached" + student),
            f.get(key));
      }
    }
  }
}
