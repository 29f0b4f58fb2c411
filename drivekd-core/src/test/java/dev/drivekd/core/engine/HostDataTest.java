package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Host data staged through one reusable buffer stays each array's own. */
class HostDataTest {

  static {
    ComputeDevice.requireOffline();
  }

  @Test
  void stagedArraysKeepTheirValuesWhenTheStagingBufferIsReused() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = HostData.floats(m, new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
      NDArray b = HostData.floats(m, new float[] {-1, -2}, new Shape(2));
      NDArray c = HostData.floats(m, new float[64], new Shape(8, 8)); // grows the buffer
      assertEquals(new Shape(2, 3), a.getShape());
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.toFloatArray());
      assertArrayEquals(new float[] {-1, -2}, b.toFloatArray());
      assertEquals(0f, c.abs().sum().getFloat());
      assertThrows(
          IllegalArgumentException.class, () -> HostData.floats(m, new float[3], new Shape(2)));
    }
  }
}
