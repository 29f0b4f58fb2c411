package dev.drivekd.gradproj;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Spreads per-tensor work over a few host threads. A Gram product of a {@code [K, n]} buffer with
 * small K runs on one core inside libtorch, so on a CPU the tensors themselves are the unit of
 * parallelism: each worker takes a balanced share of them. The number of workers is the system
 * property {@code drivekd.gradproj.threads} (default: the number of cores, at most 4).
 */
final class TensorWorkers {
  static final int THREADS =
      Math.max(
          1,
          Integer.getInteger(
              "drivekd.gradproj.threads", Math.min(4, Runtime.getRuntime().availableProcessors())));

  private static final ExecutorService POOL =
      Executors.newFixedThreadPool(
          THREADS,
          r -> {
            Thread t = new Thread(r, "drivekd-gradproj");
            t.setDaemon(true);
            return t;
          });

  private TensorWorkers() {}

  /**
   * Splits tensors into at most {@link #THREADS} groups of about equal total size (largest first,
   * each to the lightest group).
   */
  static List<int[]> balance(long[] sizes) {
    int groups = Math.min(THREADS, Math.max(1, sizes.length));
    Integer[] order = new Integer[sizes.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compare(sizes[b], sizes[a]));
    List<List<Integer>> members = new ArrayList<>();
    long[] load = new long[groups];
    for (int g = 0; g < groups; g++) {
      members.add(new ArrayList<>());
    }
    for (int i : order) {
      int lightest = 0;
      for (int g = 1; g < groups; g++) {
        if (load[g] < load[lightest]) {
          lightest = g;
        }
      }
      members.get(lightest).add(i);
      load[lightest] += sizes[i];
    }
    List<int[]> out = new ArrayList<>();
    for (List<Integer> m : members) {
      out.add(m.stream().mapToInt(Integer::intValue).toArray());
    }
    return out;
  }

  /** Runs {@code work(group)} for every group, in parallel when there is more than one. */
  static void run(int groups, IntConsumer work) {
    if (groups == 1) {
      work.accept(0);
      return;
    }
    List<Future<?>> futures = new ArrayList<>();
    for (int g = 1; g < groups; g++) {
      int group = g;
      futures.add(POOL.submit(() -> work.accept(group)));
    }
    RuntimeException failure = null;
    try {
      work.accept(0);
    } catch (RuntimeException e) {
      failure = e;
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while combining gradients", e);
      } catch (ExecutionException e) {
        if (failure == null) {
          failure =
              e.getCause() instanceof RuntimeException re
                  ? re
                  : new IllegalStateException(e.getCause());
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
