package dev.drivekd.core.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the PyTorch engine offline and picks the device: the first GPU when libtorch reports one,
 * otherwise the CPU. drivekd never downloads natives at run time: the CPU libtorch comes from Maven
 * Central, a CUDA libtorch from {@code PYTORCH_LIBRARY_PATH} (see the README).
 */
public final class ComputeDevice {
  /** DJL's switch that forbids any download of native libraries or models. */
  public static final String OFFLINE_PROPERTY = "ai.djl.offline";

  private static final Logger LOG = LoggerFactory.getLogger(ComputeDevice.class);

  private ComputeDevice() {}

  /**
   * Sets {@code ai.djl.offline=true} unless the caller chose otherwise. Must run before the engine
   * is first touched, so every drivekd entry point calls it first.
   */
  public static void requireOffline() {
    if (System.getProperty(OFFLINE_PROPERTY) == null) {
      System.setProperty(OFFLINE_PROPERTY, "true");
    }
  }

  /** The PyTorch engine, started offline. */
  public static Engine engine() {
    requireOffline();
    return Engine.getEngine("PyTorch");
  }

  /** {@code gpu()} when the engine sees a GPU, else {@code cpu()}. */
  public static Device select() {
    Engine engine = engine();
    Device device = forGpuCount(engine.getGpuCount());
    LOG.debug("drivekd computes on {} (engine {} {})", device, engine, engine.getVersion());
    return device;
  }

  /** The device for an engine that sees {@code gpus} GPUs: the first GPU, or the CPU for none. */
  static Device forGpuCount(int gpus) {
    return gpus > 0 ? Device.gpu() : Device.cpu();
  }
}
