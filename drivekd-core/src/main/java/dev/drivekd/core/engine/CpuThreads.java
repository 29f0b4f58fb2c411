package dev.drivekd.core.engine;

/**
 * libtorch's intra-op thread count for training on a CPU. The trainer prepares the next micro-step
 * (teacher forwards, encoding) on a thread of its own; libtorch runs each host thread's parallel
 * operations with a separate OpenMP team whose threads spin between operations, so a main team as
 * wide as the machine and a second busy thread oversubscribe the cores (measured on 2 cores with
 * the tiny models: every step took 2 to 3 times longer). The default here leaves one core to the
 * prefetch thread.
 */
public final class CpuThreads {

  /** DJL's system property for libtorch's intra-op threads, read once when the engine starts. */
  public static final String PROPERTY = "ai.djl.pytorch.num_threads";

  private CpuThreads() {}

  /**
   * Sets {@link #PROPERTY} to one less than the available cores (at least 1) unless it is set
   * already; call before anything starts the engine. Returns the value in force.
   */
  public static int reserveCoreForPrefetch() {
    String set = System.getProperty(PROPERTY);
    if (set != null && !set.isBlank()) {
      return Integer.parseInt(set.trim());
    }
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    System.setProperty(PROPERTY, Integer.toString(threads));
    return threads;
  }
}
