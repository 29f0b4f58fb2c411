package dev.drivekd.core.train;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.drivekd.core.data.DrivingSample;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Prepares micro-step {@code i + 1} (encoding, teacher forwards or cache reads) on a background
 * thread while micro-step {@code i} trains. The student's step runs mostly on one core (small
 * tensors stay below libtorch's parallel grain), so on a multi-core CPU the teachers' work hides
 * behind it. Preparation reads only the data, the encoder and the frozen teachers, never the
 * student or the optimizer, so the results equal those of preparing in line, bit for bit.
 *
 * <p>One epoch per instance; {@link #close} waits for a preparation in flight and frees it.
 */
final class InputPrefetcher implements AutoCloseable {

  /**
   * The single preparing thread of a trainer (preparations never run concurrently). It runs
   * libtorch serially and without grad mode: a second OpenMP team would compete with the training
   * thread's (see {@code CpuThreads}). libtorch's thread count is per thread once a thread has used
   * it, but setting it also sets the count that threads starting later inherit; that count is set
   * back to the calling thread's before this returns, so nothing else changes.
   */
  static ExecutorService newWorker() {
    int callerThreads = JniUtils.getNumThreads();
    ExecutorService worker =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "drivekd-prefetch");
              t.setDaemon(true);
              return t;
            });
    try {
      worker
          .submit(
              () -> {
                JniUtils.getNumThreads(); // libtorch gives this thread its count now...
                JniUtils.setNumThreads(1); // ...then this thread runs serially
                JniUtils.setGradMode(false); // teachers build no graph on this thread
              })
          .get();
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the prefetch thread", e);
    } catch (ExecutionException e) {
      worker.shutdownNow();
      throw new IllegalStateException("cannot start the prefetch thread", e.getCause());
    } finally {
      JniUtils.setNumThreads(callerThreads); // what threads starting later inherit, as before
    }
    return worker;
  }

  /**
   * Whether preparing on a second thread pays: on a GPU always; on a CPU only when libtorch's
   * intra-op threads leave a core free for it.
   */
  static boolean pays(boolean gpu, int libtorchThreads, int cores) {
    return gpu || libtorchThreads < cores;
  }

  private final DistillationStep step;
  private final NDManager parent;
  private final ExecutorService worker;
  private final int count;
  private final IntFunction<List<Integer>> indicesAt;
  private final IntFunction<List<DrivingSample>> samplesAt;
  private Future<DistillationStep.Prepared> pending;
  private int pendingPosition = -1;

  /**
   * @param worker the thread to prepare on, or null to prepare in line
   * @param count micro-steps in the epoch
   * @param indicesAt the dataset indices of micro-step i
   * @param samplesAt the samples of micro-step i
   */
  InputPrefetcher(
      DistillationStep step,
      NDManager parent,
      ExecutorService worker,
      int count,
      IntFunction<List<Integer>> indicesAt,
      IntFunction<List<DrivingSample>> samplesAt) {
    this.step = step;
    this.parent = parent;
    this.worker = worker;
    this.count = count;
    this.indicesAt = indicesAt;
    this.samplesAt = samplesAt;
  }

  /**
   * The prepared inputs of micro-step {@code position} (the caller closes them); starts preparing
   * the next one.
   */
  DistillationStep.Prepared take(int position) {
    DistillationStep.Prepared prepared;
    if (pending != null && pendingPosition == position) {
      prepared = await(pending);
      pending = null;
    } else {
      discardPending();
      prepared = prepare(position);
    }
    if (worker != null && position + 1 < count) {
      int next = position + 1;
      pendingPosition = next;
      pending = worker.submit(() -> prepare(next));
    }
    return prepared;
  }

  private DistillationStep.Prepared prepare(int position) {
    return step.prepare(
        parent.newSubManager(), indicesAt.apply(position), samplesAt.apply(position));
  }

  private static DistillationStep.Prepared await(Future<DistillationStep.Prepared> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while preparing a micro-step", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r; // e.g. a DatasetException naming file, record and field
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("preparing a micro-step failed", cause);
    }
  }

  private void discardPending() {
    if (pending == null) {
      return;
    }
    Future<DistillationStep.Prepared> f = pending;
    pending = null;
    try {
      f.get().close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // nobody asked for it: its failure will be met again when the sample comes round
    }
  }

  @Override
  public void close() {
    discardPending();
  }
}
