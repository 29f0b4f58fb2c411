package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Constants saved for backward survive garbage collection. DJL's {@code x.mul(2.5f)} saves a
 * constant whose memory is a Java buffer that the collector frees; after collections that reuse the
 * memory, the gradient of {@code x} is no longer 2.5.
 */
class ScalarsTest {

  static {
    ComputeDevice.requireOffline();
  }

  /** The gradient of {@code sum(op(x))} after collections and fresh buffers full of NaN. */
  private static float[] gradientAfterCollections(UnaryOperator<NDArray> op) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new float[] {1, 2, 3});
      x.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray y = op.apply(x).sum();
        List<ByteBuffer> garbage = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
          System.gc();
          for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, Float.NaN);
            garbage.add(b);
          }
        }
        gc.backward(y);
        return x.getGradient().toFloatArray();
      }
    }
  }

  @Test
  void mulAndDivKeepTheirConstantThroughBackward() {
    assertArrayEquals(
        new float[] {2.5f, 2.5f, 2.5f}, gradientAfterCollections(x -> Scalars.mul(x, 2.5)));
    assertArrayEquals(
        new float[] {0.25f, 0.25f, 0.25f}, gradientAfterCollections(x -> Scalars.div(x, 4)));
    // maximum's gradient routes through x where x > 1.5 (the constant is compared in backward)
    assertArrayEquals(
        new float[] {0f, 1f, 1f}, gradientAfterCollections(x -> Scalars.maximum(x, 1.5)));
  }

  @Test
  void aHostMaskClosedBeforeBackwardStaysValidWhenOwned() {
    // as a loss's scope closes the masks it made from the token layout
    assertArrayEquals(
        new float[] {1f, 0f, 1f},
        gradientAfterCollections(
            x -> {
              NDArray mask = HostData.owned(x.getManager().create(new float[] {1, 0, 1}));
              NDArray y = x.mul(mask);
              mask.close();
              return y;
            }));
  }
}
