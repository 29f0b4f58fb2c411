package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The K task gradients of one training sample, stored where a combine reads them best: one {@code
 * [K, n]} buffer per parameter tensor, row k holding task k's gradient. A task may be absent on a
 * parameter (its loss does not reach it; PyTorch's {@code grad is None}), which is not the same as
 * a zero gradient: projections treat absent entries asymmetrically (method.md 4.3).
 *
 * <p>Task 0 is the anchor (the cross-entropy task in Drive-KD); the others are followers, in the
 * order given. Each task carries the scalar weight its gradient is multiplied by before combining.
 * The buffers are allocated once and reused: {@link #snapshot} overwrites a row, so a training loop
 * keeps one instance for the whole run.
 */
public final class TaskGradients implements AutoCloseable {
  private final NDManager manager;
  private final List<String> tasks;
  private final List<Shape> shapes;

  /**
   * Models whose K x N gradients fit in this many bytes are stored packed ({@link #packed()}):
   * there, per-operation overhead, not arithmetic, dominates the combine. System property {@code
   * drivekd.gradproj.packLimitBytes} (default 64 MiB; 0 never packs).
   */
  static final long PACK_LIMIT_BYTES = Long.getLong("drivekd.gradproj.packLimitBytes", 64L << 20);

  private final NDArray[] buffers;
  private final NDArray packed;
  private final long[] offsets;
  private final boolean[][] present;
  private final double[] weights;
  private List<String> stage2Order;
  private final List<int[]> workerGroups;
  private GramMatrices gram;
  private int hostSyncs;

  private TaskGradients(
      NDManager parent,
      List<String> tasks,
      List<Shape> shapes,
      DataType dataType,
      long packLimitBytes) {
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("TaskGradients needs at least one task (the anchor)");
    }
    if (tasks.size() != tasks.stream().distinct().count()) {
      throw new IllegalArgumentException("Task names must be distinct: " + tasks);
    }
    this.manager = parent.newSubManager();
    this.tasks = List.copyOf(tasks);
    this.shapes = List.copyOf(shapes);
    this.buffers = new NDArray[shapes.size()];
    this.present = new boolean[tasks.size()][shapes.size()];
    this.weights = new double[tasks.size()];
    Arrays.fill(weights, 1.0);
    long[] sizes = new long[shapes.size()];
    long total = 0;
    for (int p = 0; p < shapes.size(); p++) {
      sizes[p] = shapes.get(p).size();
      total += sizes[p];
    }
    this.offsets = new long[shapes.size() + 1];
    if (shapes.size() > 1 && total * tasks.size() * dataType.getNumOfBytes() <= packLimitBytes) {
      // small models: one [K, N] array, each parameter's buffer a column-block view of it, so that
      // whole-model reductions are a few large operations instead of a few per parameter
      packed = manager.zeros(new Shape(tasks.size(), total), dataType);
      for (int p = 0; p < shapes.size(); p++) {
        offsets[p + 1] = offsets[p] + sizes[p];
        buffers[p] = packed.get(new NDIndex(":, {}:{}", offsets[p], offsets[p + 1]));
      }
    } else {
      packed = null;
      for (int p = 0; p < shapes.size(); p++) {
        offsets[p + 1] = offsets[p] + sizes[p];
        buffers[p] = manager.zeros(new Shape(tasks.size(), sizes[p]), dataType);
      }
    }
    // packed (small) gradients are combined on the calling thread: per-tensor work is too small to
    // pay for another thread, and each host thread that runs libtorch operations brings its own
    // OpenMP team, which competes for the cores (measured: the tiny student's step took 2x longer)
    this.workerGroups =
        packed != null
            ? List.of(java.util.stream.IntStream.range(0, shapes.size()).toArray())
            : TensorWorkers.balance(sizes);
  }

  /**
   * Allocates the buffers for the given tasks (the first is the anchor) and parameter shapes, in
   * {@code dataType} on the manager's device. Every task starts absent on every parameter.
   */
  public static TaskGradients create(
      NDManager manager, List<String> tasks, List<Shape> parameterShapes, DataType dataType) {
    return new TaskGradients(manager, tasks, parameterShapes, dataType, PACK_LIMIT_BYTES);
  }

  /** {@link #create} with another size limit of the packed layout (tests of both layouts). */
  static TaskGradients create(
      NDManager manager,
      List<String> tasks,
      List<Shape> parameterShapes,
      DataType dataType,
      long packLimitBytes) {
    return new TaskGradients(manager, tasks, parameterShapes, dataType, packLimitBytes);
  }

  /** Task names; index 0 is the anchor. */
  public List<String> tasks() {
    return tasks;
  }

  /** Number of tasks K. */
  public int taskCount() {
    return tasks.size();
  }

  /** Number of parameter tensors. */
  public int parameterCount() {
    return shapes.size();
  }

  /** Shape of parameter {@code param}. */
  public Shape shape(int param) {
    return shapes.get(param);
  }

  /** Index of a task by name. */
  public int taskIndex(String task) {
    int i = tasks.indexOf(task);
    if (i < 0) {
      throw new IllegalArgumentException("Unknown task '" + task + "'; tasks are " + tasks);
    }
    return i;
  }

  /**
   * Copies one task's gradients into its rows, one entry per parameter; a {@code null} entry marks
   * the task absent on that parameter. The arrays are only read.
   */
  public TaskGradients snapshot(String task, List<NDArray> gradients) {
    if (gradients.size() != shapes.size()) {
      throw new IllegalArgumentException(
          "Task '"
              + task
              + "': "
              + gradients.size()
              + " gradients given for "
              + shapes.size()
              + " parameters");
    }
    int k = taskIndex(task);
    for (int p = 0; p < shapes.size(); p++) {
      snapshot(k, p, gradients.get(p));
    }
    return this;
  }

  /** Copies task {@code k}'s gradient of parameter {@code param}; {@code null} marks it absent. */
  public void snapshot(int k, int param, NDArray gradient) {
    NDIndex row = new NDIndex(k);
    if (gradient == null) {
      if (present[k][param]) {
        buffers[param].set(row, 0);
      }
      present[k][param] = false;
    } else {
      if (gradient.size() != shapes.get(param).size()) {
        throw new IllegalArgumentException(
            "Task '"
                + tasks.get(k)
                + "', parameter "
                + param
                + ": gradient shape "
                + gradient.getShape()
                + " does not match parameter shape "
                + shapes.get(param));
      }
      try (NDArray flat = gradient.reshape(-1)) {
        buffers[param].set(row, flat);
      }
      present[k][param] = true;
    }
    gram = null;
  }

  /**
   * Marks every task absent on the parameters where its row is exactly zero (every entry {@code ==
   * 0}; NaN counts as non-zero), in one host read. DJL cannot leave a gradient undefined (PyTorch's
   * {@code grad is None}), so a tensor that a task's loss does not reach shows up as exact zeros
   * (method.md 4.6). Two small operations per parameter. (A running count of non-zero entries over
   * the packed array, read at each parameter's last column, took fewer operations but cost 40 % of
   * the tiny student's AGP step in int64 passes over the gradients, measured, and was dropped.)
   */
  public void markZeroRowsAbsent() {
    int k = tasks.size();
    int params = shapes.size();
    boolean[] zero = new boolean[k * params]; // [k * params + p]
    try (NDManager scratch = manager.newSubManager()) {
      NDList perTensor = new NDList(params);
      for (int p = 0; p < params; p++) {
        NDArray magnitude = buffers[p].abs();
        magnitude.attach(scratch);
        NDArray m = magnitude.max(new int[] {1});
        m.attach(scratch);
        perTensor.add(m);
      }
      NDArray stacked = NDArrays.stack(perTensor); // [P, K]
      stacked.attach(scratch);
      NDArray wide = stacked.toType(DataType.FLOAT32, false);
      wide.attach(scratch);
      float[] maxima = wide.toFloatArray(); // one read
      for (int p = 0; p < params; p++) {
        for (int t = 0; t < k; t++) {
          zero[t * params + p] = maxima[p * k + t] == 0f;
        }
      }
    }
    for (int t = 0; t < k; t++) {
      for (int p = 0; p < params; p++) {
        if (zero[t * params + p]) {
          present[t][p] = false; // the row is exactly zero already
        }
      }
    }
    gram = null;
  }

  /** Sets the scalar a task's gradient is multiplied by (Drive-KD: loss weight times mix). */
  public TaskGradients weight(String task, double weight) {
    if (!Double.isFinite(weight)) {
      throw new IllegalArgumentException("Weight of task '" + task + "' is not finite: " + weight);
    }
    weights[taskIndex(task)] = weight;
    return this;
  }

  /** The weight of task {@code k}. */
  public double weight(int k) {
    return weights[k];
  }

  /**
   * Fixes the order of the stage-2 projections (follower names) for the next combine instead of
   * drawing it, so that a recorded order can be replayed.
   */
  public TaskGradients stage2Order(List<String> followerOrder) {
    this.stage2Order = followerOrder == null ? null : List.copyOf(followerOrder);
    return this;
  }

  /** The fixed stage-2 order, or {@code null} when the projection draws one. */
  public List<String> stage2Order() {
    return stage2Order;
  }

  /** Whether task {@code k} reaches parameter {@code param}. */
  public boolean isPresent(int k, int param) {
    return present[k][param];
  }

  /** The {@code [K, n]} buffer of one parameter (row k = task k, zeros where absent). */
  public NDArray buffer(int param) {
    return buffers[param];
  }

  /**
   * All buffers as one {@code [K, N]} array whose column blocks are the parameters' buffers (in
   * parameter order), or {@code null} for a model too large to be stored packed.
   */
  NDArray packed() {
    return packed;
  }

  /**
   * For the packed layout: the first column of parameter {@code param} ({@code N} past the last).
   */
  long columnOffset(int param) {
    return offsets[param];
  }

  /** The manager owning the buffers. */
  public NDManager getManager() {
    return manager;
  }

  /**
   * L2 norm of each task's unweighted gradient over all parameters, {@code sqrt(sum g^2 + 1e-20)}
   * as the reference's {@code _grads_norm}. Costs one host synchronisation, shared with a
   * projection's combine of the same snapshot.
   */
  public double[] norms() {
    double[][] total = gram().total();
    double[] n = new double[tasks.size()];
    for (int k = 0; k < n.length; k++) {
      n[k] = Math.sqrt(total[k][k] + 1e-20);
    }
    return n;
  }

  /** The names of the follower tasks (every task but the anchor), in order. */
  public List<String> followers() {
    return Collections.unmodifiableList(new ArrayList<>(tasks.subList(1, tasks.size())));
  }

  /** Host synchronisations this instance has made so far (one per fresh snapshot at most). */
  public int hostSynchronisations() {
    return hostSyncs;
  }

  GramMatrices gram() {
    if (gram == null) {
      gram = GramMatrices.compute(this);
      hostSyncs++;
    }
    return gram;
  }

  /** Parameter indices per host worker, balanced by size. */
  List<int[]> workerGroups() {
    return workerGroups;
  }

  boolean hasGram() {
    return gram != null;
  }

  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "TaskGradients" + tasks + " over " + shapes.size() + " parameters";
  }
}
