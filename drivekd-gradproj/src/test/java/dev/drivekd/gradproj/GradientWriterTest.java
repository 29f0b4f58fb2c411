package dev.drivekd.gradproj;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The combined gradient reaches DJL parameters and a DJL optimizer applies exactly it. */
class GradientWriterTest {

  @Test
  void combinedGradientIsWhatTheOptimizerApplies() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Linear block = Linear.builder().setUnits(3).build();
      block.setInitializer(new NormalInitializer(), Parameter.Type.WEIGHT);
      block.initialize(manager, DataType.FLOAT32, new Shape(4, 5));
      List<Parameter> params = new ArrayList<>();
      block.getParameters().forEach(p -> params.add(p.getValue()));
      List<Shape> shapes = new ArrayList<>();
      params.forEach(p -> shapes.add(p.getArray().getShape()));
      NDArray x = manager.randomNormal(new Shape(4, 5));
      NDArray target = manager.randomNormal(new Shape(4, 3));

      try (TaskGradients g =
          TaskGradients.create(manager, List.of("ce", "kd"), shapes, DataType.FLOAT32)) {
        // task "ce": squared error on everything; task "kd": pulls the output the other way and
        // does not reach the bias (declared absent there)
        backward(block, manager, x, out -> out.sub(target).square().mean());
        GradientWriter.snapshot(g, "ce", params, new boolean[] {true, true});
        GradientWriter.zero(params);
        backward(block, manager, x, out -> out.add(target).square().mean());
        GradientWriter.snapshot(g, "kd", params, new boolean[] {true, false});
        GradientWriter.zero(params);
        g.weight("kd", 0.5);

        int before = manager.getManagedArrays().size();
        try (CombinedGradient combined = GradientProjection.agp().combine(g)) {
          GradientWriter.addInto(params, combined);
          Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build();
          for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            NDArray expected = combined.materialize(i, manager);
            float[] w0 = p.getArray().toFloatArray();
            try (NDArray grad = p.getArray().getGradient()) {
              assertArrayEquals(expected.toFloatArray(), grad.toFloatArray(), 0f);
              sgd.update(p.getId(), p.getArray(), grad);
            }
            float[] w1 = p.getArray().toFloatArray();
            float[] e = expected.toFloatArray();
            for (int j = 0; j < w0.length; j++) {
              assertEquals(w0[j] - 0.1f * e[j], w1[j], 1e-6f);
            }
            expected.close();
          }
        }
        assertEquals(before, manager.getManagedArrays().size(), "no gradient wrapper leaks");
      }
    }
  }

  private static void backward(
      Linear block,
      NDManager manager,
      NDArray x,
      java.util.function.Function<NDArray, NDArray> loss) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDList out = block.forward(new ParameterStore(manager, false), new NDList(x), true);
      collector.backward(loss.apply(out.singletonOrThrow()));
    }
  }
}
