package dev.drivekd.examples.bench;

import static dev.drivekd.examples.bench.BenchSupport.round;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.eval.deploy.ResidentMemory;
import dev.drivekd.gradproj.CombinedGradient;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.gradproj.ReferenceStyleAgp;
import dev.drivekd.gradproj.TaskGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Times one AGP combine (Gram matrices, one host read, the update added into the parameters'
 * gradients) against a plain pass that only sums the same K gradients into the gradients (the
 * faster of one and two dispatching threads), and against the reference-style implementation (full
 * copies, one host read per tensor per dot product), all in one run on the same data. Also reports
 * host synchronisations and the peak resident memory each method adds, in units of one
 * parameter-sized float32 buffer.
 */
final class GradprojBenchmark {
  static final String[] TASKS = {"ce", "p:first_att_Atv", "r:intermediate", "d:penult_att_Atv"};

  private final Device device;
  private final int tensors;
  private final Consumer<String> progress;
  private final ExecutorService workers =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "bench-plain-sum");
            t.setDaemon(true);
            return t;
          });

  GradprojBenchmark(Device device, int tensors, Consumer<String> progress) {
    this.device = device;
    this.tensors = tensors;
    this.progress = progress;
  }

  /** Figures for one model size. */
  record SizeResult(
      long parameters,
      int tensors,
      double agpMs,
      double plainSumMs,
      double referenceStyleMs,
      double agpGigabytesPerSecond,
      int hostSyncsPerCombine,
      long referenceStyleHostSyncs,
      double agpExtraParamBuffers,
      double referenceStyleExtraParamBuffers,
      int projectionsFired) {

    SizeResult withMemory(double agpExtra, double referenceExtra) {
      return new SizeResult(
          parameters,
          tensors,
          agpMs,
          plainSumMs,
          referenceStyleMs,
          agpGigabytesPerSecond,
          hostSyncsPerCombine,
          referenceStyleHostSyncs,
          agpExtra,
          referenceExtra,
          projectionsFired);
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("parameters", parameters);
      m.put("tensors", tensors);
      m.put("agp_ms", round(agpMs));
      m.put("plain_sum_ms", round(plainSumMs));
      m.put("ratio_to_plain_sum", round(agpMs / plainSumMs));
      m.put("reference_style_ms", Double.isNaN(referenceStyleMs) ? null : round(referenceStyleMs));
      m.put(
          "speedup_vs_reference_style",
          Double.isNaN(referenceStyleMs) ? null : round(referenceStyleMs / agpMs));
      m.put("agp_effective_gb_per_s", round(agpGigabytesPerSecond));
      m.put("host_syncs_per_combine", hostSyncsPerCombine);
      m.put(
          "reference_style_host_syncs_per_combine",
          referenceStyleHostSyncs < 0 ? null : referenceStyleHostSyncs);
      m.put("agp_extra_param_sized_buffers", round(agpExtraParamBuffers));
      m.put(
          "reference_style_extra_param_sized_buffers",
          Double.isNaN(referenceStyleExtraParamBuffers)
              ? null
              : round(referenceStyleExtraParamBuffers));
      m.put("projections_fired", projectionsFired);
      return m;
    }
  }

  SizeResult measure(long parameters, int repeats, boolean withReference) {
    return measure(parameters, repeats, withReference, false);
  }

  /**
   * With {@code memoryOnly}, skips the timings and reports only the peak extra memory of one AGP
   * combine and one reference-style combine, each the first of its kind in this process.
   */
  SizeResult measure(long parameters, int repeats, boolean withReference, boolean memoryOnly) {
    long[] sizes = tensorSizes(parameters, tensors, new Random(parameters));
    int k = TASKS.length;
    try (NDManager manager = NDManager.newBaseManager(device)) {
      List<Shape> shapes = new ArrayList<>();
      for (long s : sizes) {
        shapes.add(new Shape(s));
      }
      List<NDArray> grads = new ArrayList<>();
      for (Shape s : shapes) {
        grads.add(manager.zeros(s, DataType.FLOAT32));
      }
      // per-task source gradients, kept only when the reference-style anchor needs them
      List<List<NDArray>> sources = new ArrayList<>();
      for (int t = 0; t < k; t++) {
        sources.add(new ArrayList<>());
      }
      try (TaskGradients g =
          TaskGradients.create(manager, List.of(TASKS), shapes, DataType.FLOAT32)) {
        fill(manager, g, sizes, sources, withReference);
        g.weight(TASKS[0], ReferenceStep.WEIGHTS[0])
            .weight(TASKS[1], ReferenceStep.WEIGHTS[1])
            .weight(TASKS[2], ReferenceStep.WEIGHTS[2])
            .weight(TASKS[3], ReferenceStep.WEIGHTS[3]);
        int smallest = argMin(sizes);
        GradientProjection agp = GradientProjection.agp().optSeed(42);

        Runnable agpStep =
            () -> {
              refresh(g, smallest);
              try (CombinedGradient c = agp.combine(g)) {
                c.addAllTo(grads);
              }
            };
        Runnable plainSerial = () -> plainSum(g, grads, 0, 1);
        Runnable plainParallel =
            () -> {
              Future<?> other = workers.submit(() -> plainSum(g, grads, 1, 2));
              plainSum(g, grads, 0, 2);
              join(other);
            };
        if (memoryOnly) {
          double agpExtra = peakExtraBuffers(agpStep, parameters);
          double referenceExtra =
              withReference
                  ? peakExtraBuffers(referenceStep(manager, sources, grads), parameters)
                  : Double.NaN;
          return new SizeResult(
              parameters,
              sizes.length,
              Double.NaN,
              Double.NaN,
              Double.NaN,
              Double.NaN,
              1,
              -1,
              agpExtra,
              referenceExtra,
              0);
        }
        progress.accept(String.format("gradproj %,d parameters: AGP vs plain sum", parameters));
        double[] ms = interleavedMedians(repeats, agpStep, plainSerial, plainParallel);
        double agpMs = ms[0];
        double plainMs = Math.min(ms[1], ms[2]);
        int syncsBefore = g.hostSynchronisations();
        int fired;
        refresh(g, smallest);
        try (CombinedGradient c = agp.combine(g)) {
          fired = c.report().projectionsFired();
        }
        int syncs = g.hostSynchronisations() - syncsBefore;

        double referenceMs = Double.NaN;
        long referenceSyncs = -1;
        if (withReference) {
          progress.accept(String.format("gradproj %,d parameters: reference style", parameters));
          ReferenceStep referenceStep = referenceStep(manager, sources, grads);
          referenceMs = medianMs(referenceStep, Math.max(1, repeats / 2));
          referenceSyncs = referenceStep.hostSyncs;
        }
        double bytes = (double) (k + 2) * parameters * Float.BYTES;
        return new SizeResult(
            parameters,
            sizes.length,
            agpMs,
            plainMs,
            referenceMs,
            bytes / (agpMs / 1e3) / 1e9,
            syncs,
            referenceSyncs,
            Double.NaN,
            Double.NaN,
            fired);
      }
    }
  }

  /** One reference-style combine (weighted copies, AGP, write-back) per run. */
  private static final class ReferenceStep implements Runnable {
    private static final double[] WEIGHTS = {1.0, 0.8, 0.1, 0.1};
    private final NDManager manager;
    private final List<List<NDArray>> sources;
    private final List<NDArray> grads;
    long hostSyncs;

    ReferenceStep(NDManager manager, List<List<NDArray>> sources, List<NDArray> grads) {
      this.manager = manager;
      this.sources = sources;
      this.grads = grads;
    }

    @Override
    public void run() {
      try (NDManager step = manager.newSubManager()) {
        ReferenceStyleAgp reference = new ReferenceStyleAgp(step);
        List<List<NDArray>> weighted = new ArrayList<>();
        for (int t = 0; t < sources.size(); t++) {
          List<NDArray> w = new ArrayList<>();
          for (NDArray a : sources.get(t)) {
            NDArray x = a == null ? null : a.mul(WEIGHTS[t]);
            if (x != null) {
              x.attach(step);
            }
            w.add(x);
          }
          weighted.add(w);
        }
        List<NDArray> total = reference.combine(weighted, List.of(1, 2, 3));
        for (int i = 0; i < grads.size(); i++) {
          if (total.get(i) != null) {
            grads.get(i).addi(total.get(i));
          }
        }
        hostSyncs = reference.hostSynchronisations();
      }
    }
  }

  private static ReferenceStep referenceStep(
      NDManager manager, List<List<NDArray>> sources, List<NDArray> grads) {
    return new ReferenceStep(manager, sources, grads);
  }

  /** Re-snapshots one small tensor so that the next combine computes its Gram matrices anew. */
  private static void refresh(TaskGradients g, int param) {
    try (NDArray row = g.buffer(param).get(0)) {
      g.snapshot(0, param, row);
    }
  }

  /** Adds the plain sum of the K rows into every target, tensors {@code first, first+step...}. */
  private static void plainSum(TaskGradients g, List<NDArray> grads, int first, int step) {
    for (int i = first; i < grads.size(); i += step) {
      try (NDArray sum = g.buffer(i).sum(new int[] {0})) {
        grads.get(i).addi(sum);
      }
    }
  }

  private static void join(Future<?> f) {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Medians of several steps timed in turn within each repeat, so that the machine's noise hits
   * them alike.
   */
  private static double[] interleavedMedians(int repeats, Runnable... steps) {
    for (Runnable s : steps) {
      s.run(); // warm-up
    }
    double[][] times = new double[steps.length][repeats];
    for (int r = 0; r < repeats; r++) {
      for (int i = 0; i < steps.length; i++) {
        long t0 = System.nanoTime();
        steps[i].run();
        times[i][r] = (System.nanoTime() - t0) / 1e6;
      }
    }
    double[] medians = new double[steps.length];
    for (int i = 0; i < steps.length; i++) {
      Arrays.sort(times[i]);
      medians[i] = times[i][repeats / 2];
    }
    return medians;
  }

  /**
   * Task gradients with the structure of a real student: the anchor reaches every tensor, the
   * perception task the first 20 %, the others the first 90 %; followers partly oppose the anchor
   * so that projections fire.
   */
  private static void fill(
      NDManager manager,
      TaskGradients g,
      long[] sizes,
      List<List<NDArray>> sources,
      boolean keepSources) {
    int n = sizes.length;
    for (int i = 0; i < n; i++) {
      try (NDManager scratch = manager.newSubManager()) {
        NDArray anchor = scratch.randomNormal(new Shape(sizes[i]));
        NDArray[] tasks = {
          anchor,
          i < n / 5 ? anchor.mul(-0.3f).add(scratch.randomNormal(new Shape(sizes[i]))) : null,
          i < n * 9 / 10 ? anchor.mul(0.2f).add(scratch.randomNormal(new Shape(sizes[i]))) : null,
          i < n * 9 / 10 ? anchor.mul(-0.1f).add(scratch.randomNormal(new Shape(sizes[i]))) : null
        };
        for (int t = 0; t < tasks.length; t++) {
          g.snapshot(t, i, tasks[t]);
          if (keepSources) {
            NDArray kept = tasks[t] == null ? null : tasks[t].duplicate();
            if (kept != null) {
              kept.attach(manager);
            }
            sources.get(t).add(kept);
          }
        }
      }
    }
  }

  /** Tensor sizes spread log-uniformly over three decades, summing to {@code total}. */
  static long[] tensorSizes(long total, int count, Random random) {
    double[] w = new double[count];
    double sum = 0;
    for (int i = 0; i < count; i++) {
      w[i] = Math.exp(random.nextDouble() * Math.log(1000));
      sum += w[i];
    }
    long[] sizes = new long[count];
    long assigned = 0;
    for (int i = 0; i < count; i++) {
      sizes[i] = Math.max(1, Math.round(total * w[i] / sum));
      assigned += sizes[i];
    }
    sizes[argMax(sizes)] += total - assigned;
    return sizes;
  }

  private static double medianMs(Runnable step, int repeats) {
    step.run(); // warm-up
    double[] times = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      step.run();
      times[r] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(times);
    return times[repeats / 2];
  }

  private static double peakExtraBuffers(Runnable step, long parameters) {
    if (!ResidentMemory.available()) {
      return Double.NaN;
    }
    System.gc();
    long base = ResidentMemory.residentBytes();
    ResidentMemory.resetPeak();
    step.run();
    long peak = ResidentMemory.peakBytes();
    return Math.max(0, peak - base) / (double) (parameters * Float.BYTES);
  }

  private static int argMin(long[] a) {
    int best = 0;
    for (int i = 1; i < a.length; i++) {
      if (a[i] < a[best]) {
        best = i;
      }
    }
    return best;
  }

  private static int argMax(long[] a) {
    int best = 0;
    for (int i = 1; i < a.length; i++) {
      if (a[i] > a[best]) {
        best = i;
      }
    }
    return best;
  }
}
