package dev.drivekd.spark;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;

/**
 * One Spark task: the shard's targets, computed with this executor's teachers into a folder of its
 * own attempt ({@code part-PPPPP-attempt-A-task-T}), so that a retried, speculative or killed
 * attempt never writes where another does. Nothing it writes is part of the cache until the driver
 * commits the attempt that Spark reported successful.
 */
final class ShardTask implements Function<ShardPlan, ShardResult> {
  private static final long serialVersionUID = 1L;

  private final TeacherSetup setup;
  private final String attemptsRoot;
  private final TaskFaults faults;
  private final int threadsPerTask;

  ShardTask(TeacherSetup setup, String attemptsRoot, TaskFaults faults, int threadsPerTask) {
    this.setup = setup;
    this.attemptsRoot = attemptsRoot;
    this.faults = faults;
    this.threadsPerTask = threadsPerTask;
  }

  @Override
  public ShardResult call(ShardPlan plan) {
    long t0 = System.nanoTime();
    TaskContext task = TaskContext.get();
    int attempt = task == null ? 0 : task.attemptNumber();
    long taskId = task == null ? 0 : task.taskAttemptId();
    if (threadsPerTask > 0) {
      Engine.getEngine("PyTorch"); // loads libtorch in a fresh executor JVM
      JniUtils.setNumThreads(threadsPerTask);
    }
    Path folder =
        Path.of(attemptsRoot)
            .resolve(
                String.format("part-%05d-attempt-%d-task-%d", plan.partition(), attempt, taskId));
    Precomputation p = ExecutorTeachers.get(setup);
    List<ShardResult.Chunk> chunks =
        p
            .precomputer()
            .precomputeShard(
                p.dataset(),
                plan.from(),
                plan.to(),
                folder,
                plan.firstChunk(),
                index -> faults.afterSample(plan.partition(), attempt, index - plan.from() + 1))
            .stream()
            .map(ShardResult.Chunk::of)
            .toList();
    return new ShardResult(
        plan.partition(),
        attempt,
        folder.toString(),
        new java.util.ArrayList<>(chunks),
        (System.nanoTime() - t0) / 1e9);
  }
}
