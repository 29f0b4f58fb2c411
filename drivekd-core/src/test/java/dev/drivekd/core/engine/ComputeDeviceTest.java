package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class ComputeDeviceTest {

  @Test
  void selectsGpuExactlyWhenTheEngineSeesOne() {
    Device device = ComputeDevice.select();
    Device expected = Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    assertEquals(expected, device);
    assertEquals("true", System.getProperty(ComputeDevice.OFFLINE_PROPERTY));
  }

  @Test
  void theSelectedDeviceComputes() {
    try (NDManager manager = NDManager.newBaseManager(ComputeDevice.select())) {
      NDArray a = manager.create(new float[] {1f, 2f, 3f});
      assertEquals(14f, a.mul(a).sum().getFloat(), 0f);
      assertEquals(ComputeDevice.select(), a.getDevice());
    }
  }
}
