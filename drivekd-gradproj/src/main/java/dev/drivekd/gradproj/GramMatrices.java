package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The K x K Gram matrices of the task gradients, one per support pattern (the set of tasks that
 * reach a parameter). Every dot product of any linear combination of task gradients follows from
 * them, so a projection needs these few numbers on the host and nothing else: they are summed on
 * the device and read back in a single synchronisation.
 */
final class GramMatrices {
  private final int taskCount;
  private final int[] patternOfParam;
  private final int[] patternMasks;
  private final double[][][] grams;

  private GramMatrices(
      int taskCount, int[] patternOfParam, int[] patternMasks, double[][][] grams) {
    this.taskCount = taskCount;
    this.patternOfParam = patternOfParam;
    this.patternMasks = patternMasks;
    this.grams = grams;
  }

  /** Support patterns and their Gram matrices (one host synchronisation). */
  static GramMatrices compute(TaskGradients g) {
    return build(g, true);
  }

  /** Support patterns only: no device work, no synchronisation; dot products unavailable. */
  static GramMatrices patternsOnly(TaskGradients g) {
    return build(g, false);
  }

  private static GramMatrices build(TaskGradients g, boolean withGrams) {
    int k = g.taskCount();
    if (k > 30) {
      throw new IllegalArgumentException("At most 30 tasks are supported, got " + k);
    }
    Map<Integer, Integer> patternIndex = new LinkedHashMap<>();
    int[] patternOfParam = new int[g.parameterCount()];
    for (int p = 0; p < g.parameterCount(); p++) {
      int mask = 0;
      for (int t = 0; t < k; t++) {
        if (g.isPresent(t, p)) {
          mask |= 1 << t;
        }
      }
      patternOfParam[p] = patternIndex.computeIfAbsent(mask, m -> patternIndex.size());
    }
    int[] masks = patternIndex.keySet().stream().mapToInt(Integer::intValue).toArray();
    if (!withGrams) {
      return new GramMatrices(k, patternOfParam, masks, null);
    }
    double[][][] grams = new double[masks.length][k][k];
    if (g.packed() != null) {
      fillPacked(g, patternOfParam, masks, grams);
      return new GramMatrices(k, patternOfParam, masks, grams);
    }
    List<int[]> groups = g.workerGroups();
    try (NDManager scratch = g.getManager().newSubManager()) {
      NDManager[] workerManagers = new NDManager[groups.size()];
      NDArray[][] partial = new NDArray[groups.size()][masks.length];
      for (int w = 0; w < workerManagers.length; w++) {
        workerManagers[w] = scratch.newSubManager();
      }
      TensorWorkers.run(
          groups.size(),
          w -> {
            for (int p : groups.get(w)) {
              int i = patternOfParam[p];
              if (masks[i] != 0) {
                partial[w][i] = accumulate(partial[w][i], g.buffer(p), workerManagers[w]);
              }
            }
          });
      List<NDArray> perPattern = new ArrayList<>();
      for (int i = 0; i < masks.length; i++) {
        NDArray sum = scratch.zeros(new Shape(k, k), DataType.FLOAT64);
        for (NDArray[] worker : partial) {
          if (worker[i] != null) {
            sum.addi(worker[i]);
          }
        }
        perPattern.add(sum);
      }
      NDArray stacked = NDArrays.stack(new NDList(perPattern));
      double[] host = stacked.toDoubleArray(); // the one host synchronisation
      for (int i = 0; i < masks.length; i++) {
        for (int r = 0; r < k; r++) {
          System.arraycopy(host, (i * k + r) * k, grams[i][r], 0, k);
        }
      }
    }
    return new GramMatrices(k, patternOfParam, masks, grams);
  }

  /**
   * The packed layout's Gram matrices: consecutive parameters of one pattern form a run of columns
   * of the {@code [K, N]} array, and each run's {@code B B^T} is one matrix product on a view; a
   * model has a handful of runs (its layers in order, each reached by a nested set of tasks), so
   * the whole model costs a few operations instead of a few per parameter, and no temporary.
   */
  private static void fillPacked(
      TaskGradients g, int[] patternOfParam, int[] masks, double[][][] grams) {
    int k = g.taskCount();
    List<int[]> runs = new ArrayList<>(); // {pattern, first param, end param}
    for (int p = 0; p < patternOfParam.length; p++) {
      int[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
      if (last != null && last[0] == patternOfParam[p] && last[2] == p) {
        last[2] = p + 1;
      } else {
        runs.add(new int[] {patternOfParam[p], p, p + 1});
      }
    }
    runs.removeIf(run -> masks[run[0]] == 0); // no task reaches these columns
    if (runs.isEmpty()) {
      return;
    }
    try (NDManager scratch = g.getManager().newSubManager()) {
      NDList perRun = new NDList(runs.size());
      for (int[] run : runs) {
        NDArray block =
            g.packed().get(new NDIndex(":, {}:{}", g.columnOffset(run[1]), g.columnOffset(run[2])));
        block.attach(scratch);
        NDArray blockT = block.transpose();
        blockT.attach(scratch);
        NDArray gram = block.matMul(blockT);
        gram.attach(scratch);
        perRun.add(gram);
      }
      NDArray stacked = NDArrays.stack(perRun);
      stacked.attach(scratch);
      NDArray wide = stacked.toType(DataType.FLOAT64, false);
      wide.attach(scratch);
      double[] host = wide.toDoubleArray(); // the one host synchronisation
      for (int r = 0; r < runs.size(); r++) {
        double[][] gram = grams[runs.get(r)[0]];
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            gram[i][j] += host[(r * k + i) * k + j];
          }
        }
      }
    }
  }

  /** {@code sum += B B^T} in float64, every temporary attached to {@code manager}. */
  private static NDArray accumulate(NDArray sum, NDArray buffer, NDManager manager) {
    NDArray transposed = buffer.transpose();
    transposed.attach(manager);
    NDArray gram = buffer.matMul(transposed);
    gram.attach(manager);
    NDArray gram64 = gram.toType(DataType.FLOAT64, false);
    gram64.attach(manager);
    return sum == null ? gram64 : sum.addi(gram64);
  }

  /**
   * The textbook (dense) view: every task counts as present on every parameter, absent entries
   * being zero, so one pattern carries the summed Gram matrix.
   */
  GramMatrices dense() {
    int[] one = new int[patternOfParam.length];
    int full = (1 << taskCount) - 1;
    return new GramMatrices(taskCount, one, new int[] {full}, new double[][][] {total()});
  }

  /** Whether the dot products were computed ({@link #patternsOnly} has none). */
  boolean hasGrams() {
    return grams != null;
  }

  /** Whether any Gram entry is NaN or infinite (a non-finite task gradient). */
  boolean hasNonFinite() {
    for (double[][] g : grams) {
      for (double[] row : g) {
        for (double v : row) {
          if (!Double.isFinite(v)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Tasks whose squared norm is not finite. */
  List<Integer> nonFiniteTasks() {
    double[][] t = total();
    List<Integer> bad = new ArrayList<>();
    for (int k = 0; k < taskCount; k++) {
      if (!Double.isFinite(t[k][k])) {
        bad.add(k);
      }
    }
    return bad;
  }

  int taskCount() {
    return taskCount;
  }

  int patternCount() {
    return patternMasks.length;
  }

  int patternOf(int param) {
    return patternOfParam[param];
  }

  boolean taskPresent(int pattern, int task) {
    return (patternMasks[pattern] & (1 << task)) != 0;
  }

  double[][] gram(int pattern) {
    return grams[pattern];
  }

  /** Sum of the Gram matrices over all patterns: plain dot products of the task gradients. */
  double[][] total() {
    double[][] t = new double[taskCount][taskCount];
    for (double[][] g : grams) {
      for (int r = 0; r < taskCount; r++) {
        for (int c = 0; c < taskCount; c++) {
          t[r][c] += g[r][c];
        }
      }
    }
    return t;
  }
}
