package dev.drivekd.core.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.gradproj.TaskGradients;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link TaskGradients} per distinct task list (ce plus the sample's active teachers). With the
 * paper's mixing every teacher is active on every sample, so one instance serves the whole run; a
 * sparse mixing matrix needs at most one per capability.
 */
final class TaskGradientPool implements AutoCloseable {

  private final NDManager manager;
  private final List<Shape> shapes;
  private final DataType dataType;
  private final Map<List<String>, TaskGradients> byTasks = new HashMap<>();

  TaskGradientPool(NDManager manager, List<Shape> shapes, DataType dataType) {
    this.manager = manager;
    this.shapes = List.copyOf(shapes);
    this.dataType = dataType;
  }

  TaskGradients forTasks(List<String> tasks) {
    return byTasks.computeIfAbsent(
        List.copyOf(tasks), t -> TaskGradients.create(manager, t, shapes, dataType));
  }

  @Override
  public void close() {
    byTasks.values().forEach(TaskGradients::close);
    byTasks.clear();
  }
}
