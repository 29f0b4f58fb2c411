package dev.drivekd.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
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

  @Test
  void thePrefetchThreadRunsSeriallyAndChangesNoOtherThreadsCount() throws Exception {
    Engine.getEngine("PyTorch"); // started
    int before = JniUtils.getNumThreads();
    ExecutorService worker = InputPrefetcher.newWorker();
    try {
      assertEquals(1, (int) worker.submit(JniUtils::getNumThreads).get(), "the prefetch thread");
      assertEquals(before, JniUtils.getNumThreads(), "this thread");
      AtomicInteger later = new AtomicInteger();
      Thread fresh = new Thread(() -> later.set(JniUtils.getNumThreads()));
      fresh.start();
      fresh.join();
      assertEquals(before, later.get(), "a thread that starts later");
      assertFalse(worker.submit(JniUtils::isGradMode).get(), "no grad mode on the prefetch thread");
    } finally {
      worker.shutdownNow();
    }
  }
}
