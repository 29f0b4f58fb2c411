package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random task gradients with random support patterns, for property tests (float64). */
final class RandomGradients {
  final List<String> tasks;
  final List<Shape> shapes = new ArrayList<>();
  final List<List<double[]>> values = new ArrayList<>(); // [task][param], null = absent
  final double[] weights;

  RandomGradients(long seed, int taskCount, int params, double absentProbability) {
    Random r = new Random(seed);
    tasks = new ArrayList<>();
    for (int k = 0; k < taskCount; k++) {
      tasks.add(k == 0 ? "ce" : "t" + k);
    }
    for (int p = 0; p < params; p++) {
      shapes.add(new Shape(1 + r.nextInt(4), 1 + r.nextInt(5)));
    }
    weights = new double[taskCount];
    for (int k = 0; k < taskCount; k++) {
      weights[k] = 0.25 + r.nextDouble();
      List<double[]> perParam = new ArrayList<>();
      for (Shape s : shapes) {
        if (r.nextDouble() < absentProbability) {
          perParam.add(null);
        } else {
          double[] v = new double[(int) s.size()];
          for (int i = 0; i < v.length; i++) {
            v[i] = r.nextGaussian();
          }
          perParam.add(v);
        }
      }
      values.add(perParam);
    }
  }

  RandomGradients scaled(double factor) {
    for (List<double[]> perParam : values) {
      for (double[] v : perParam) {
        if (v != null) {
          for (int i = 0; i < v.length; i++) {
            v[i] *= factor;
          }
        }
      }
    }
    return this;
  }

  TaskGradients load(NDManager m) {
    return load(m, TaskGradients.PACK_LIMIT_BYTES);
  }

  /** Loads into a layout chosen by {@code packLimitBytes} (0: one buffer per parameter). */
  TaskGradients load(NDManager m, long packLimitBytes) {
    TaskGradients g = TaskGradients.create(m, tasks, shapes, DataType.FLOAT64, packLimitBytes);
    for (int k = 0; k < tasks.size(); k++) {
      g.snapshot(tasks.get(k), arrays(m, k, 1.0));
      g.weight(tasks.get(k), weights[k]);
    }
    return g;
  }

  /** Task k's gradients times {@code factor}, null where absent. */
  List<NDArray> arrays(NDManager m, int k, double factor) {
    List<NDArray> out = new ArrayList<>();
    for (int p = 0; p < shapes.size(); p++) {
      double[] v = values.get(k).get(p);
      out.add(v == null ? null : m.create(v, shapes.get(p)).mul(factor));
    }
    return out;
  }

  /** The weighted vectors the reference-style oracle takes. */
  List<List<NDArray>> weighted(NDManager m) {
    List<List<NDArray>> out = new ArrayList<>();
    for (int k = 0; k < tasks.size(); k++) {
      out.add(arrays(m, k, weights[k]));
    }
    return out;
  }
}
