package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class ComputeDeviceTest {

  @Test
  void theFirstGpuWhenThereIsOneElseTheCpu() {
    assertEquals(Device.cpu(), ComputeDevice.forGpuCount(0));
    assertEquals(Device.gpu(0), ComputeDevice.forGpuCount(1));
    assertEquals(Device.gpu(0), ComputeDevice.forGpuCount(8));
  }

  @Test
  void selectsOnTheEnginesGpuCountAndStartsItOffline() {
    // the build's libtorch is the CPU one from Maven Central unless PYTORCH_LIBRARY_PATH says else
    int gpus = Engine.getInstance().getGpuCount();
    assertEquals(gpus > 0 ? "gpu" : "cpu", ComputeDevice.select().getDeviceType());
    if (System.getenv("PYTORCH_LIBRARY_PATH") == null) {
      assertEquals(0, gpus, "the Maven Central libtorch is CPU-only");
    }
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
