package dev.drivekd.core.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InputPrefetcherTest {

  @Test
  void aSecondThreadPaysOnAGpuOrWhenLibtorchLeavesACoreFree() {
    assertTrue(InputPrefetcher.pays(true, 16, 16), "GPU");
    assertTrue(InputPrefetcher.pays(false, 1, 2), "CPU, a core left (CpuThreads' default)");
    assertTrue(InputPrefetcher.pays(false, 15, 16));
    assertFalse(InputPrefetcher.pays(false, 2, 2), "CPU, libtorch as wide as the machine");
    assertFalse(InputPrefetcher.pays(false, 1, 1), "one core");
  }
}
