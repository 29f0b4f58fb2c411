package dev.drivekd.spark;

import dev.drivekd.core.train.checkpoint.DurableFiles;
import dev.drivekd.teachers.cache.CacheIndex;
import dev.drivekd.teachers.cache.TeacherCacheException;
import dev.drivekd.teachers.cache.TeacherTargetCache;
import dev.drivekd.teachers.cache.TeacherTargetCacheWriter;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes a teacher-target cache with Spark, in the format {@code CachedTeacherTargets} reads and
 * equal to what {@link TeacherTargetPrecomputer#precompute} writes on one machine.
 *
 * <p>The driver opens the setup once (to name the teachers and their signals, and to refuse a cache
 * folder that holds another recipe's targets before any task starts), splits the samples into
 * shards of whole chunks ({@link ShardPlan}), and runs one task per shard. A task writes into a
 * folder private to its attempt beside the cache ({@code <cache>.attempts/}); when every task has
 * succeeded, the driver moves the chunks of the attempts Spark reported into {@code
 * <cache>.partial/}, writes the index there (each sample listed once) and renames the folder to the
 * cache's name: a retried, speculative or killed attempt's files are never committed, and a failed
 * job leaves no cache.
 *
 * <pre>{@code
 * try (JavaSparkContext spark = new JavaSparkContext(conf)) {
 *   SparkTeacherTargets.Result r =
 *       SparkTeacherTargets.builder(spark, RecipeTeacherSetup.of(recipeFile, 64))
 *           .optPartitions(spark.defaultParallelism())
 *           .build()
 *           .run(cacheDir);
 * }
 * }</pre>
 */
public final class SparkTeacherTargets {
  private static final Logger LOG = LoggerFactory.getLogger(SparkTeacherTargets.class);

  /** The suffix of the folder that holds the attempts' shards while the job runs. */
  public static final String ATTEMPTS_SUFFIX = ".attempts";

  private final JavaSparkContext spark;
  private final TeacherSetup setup;
  private final int partitions;
  private final TaskFaults faults;
  private final int threadsPerTask;

  private SparkTeacherTargets(Builder b) {
    this.spark = b.spark;
    this.setup = b.setup;
    this.partitions = b.partitions > 0 ? b.partitions : b.spark.defaultParallelism();
    this.faults = b.faults;
    this.threadsPerTask = b.threadsPerTask;
  }

  /** A job over {@code spark} with the teachers and data of {@code setup}. */
  public static Builder builder(JavaSparkContext spark, TeacherSetup setup) {
    return new Builder(spark, setup);
  }

  /**
   * What the job did.
   *
   * @param index the committed cache's index
   * @param shards the committed attempt of each shard, by partition
   * @param seconds wall time of the whole job (driver set-up included)
   * @param alreadyComplete whether the cache existed already with this recipe's targets (nothing
   *     was computed)
   */
  public record Result(
      CacheIndex index, List<ShardResult> shards, double seconds, boolean alreadyComplete) {}

  /**
   * Fills {@code cache} (absent or empty).
   *
   * @throws IllegalArgumentException when the folder holds files of something else, or another
   *     recipe's or dataset's targets (nothing runs then)
   * @throws IllegalStateException when a task failed for good; the message names the sample and its
   *     record when a sample was the cause; no cache folder is made
   */
  public Result run(Path cache) {
    long t0 = System.nanoTime();
    Path target = cache.toAbsolutePath().normalize();
    Precomputation driver = ExecutorTeachers.get(setup);
    TeacherTargetPrecomputer precomputer = driver.precomputer();
    String fingerprint = precomputer.datasetFingerprint(driver.dataset());
    CacheIndex existing = existingCache(target, precomputer, fingerprint);
    if (existing != null) {
      LOG.info("{} holds this recipe's targets of this dataset already: nothing to do", target);
      return new Result(existing, List.of(), (System.nanoTime() - t0) / 1e9, true);
    }
    List<ShardPlan> plans =
        ShardPlan.split(driver.dataset().size(), precomputer.samplesPerChunk(), partitions);
    Path attempts = target.resolveSibling(target.getFileName() + ATTEMPTS_SUFFIX);
    Path partial =
        target.resolveSibling(target.getFileName() + TeacherTargetPrecomputer.PARTIAL_SUFFIX);
    removeLeftover(attempts);
    removeLeftover(partial);
    LOG.info(
        "teacher targets of {} samples in {} shards of chunks of {} samples -> {}",
        driver.dataset().size(),
        plans.size(),
        precomputer.samplesPerChunk(),
        target);
    List<ShardResult> results;
    try {
      results =
          spark
              .parallelize(plans, plans.size())
              .map(new ShardTask(setup, attempts.toString(), faults, threadsPerTask))
              .collect();
    } catch (Exception e) { // SparkException (checked) escapes collect() unannounced
      removeQuietly(attempts);
      throw new IllegalStateException("the teacher-targets job failed: " + rootMessage(e), e);
    }
    List<ShardResult> byPartition = new ArrayList<>(results);
    byPartition.sort(Comparator.comparingInt(ShardResult::partition));
    CacheIndex index = commit(byPartition, plans, partial, target, precomputer, fingerprint);
    removeQuietly(attempts);
    double seconds = (System.nanoTime() - t0) / 1e9;
    LOG.info(
        "teacher-target cache {} committed: {} samples, {} s", target, index.samples(), seconds);
    return new Result(index, byPartition, seconds, false);
  }

  /** Moves the reported attempts' chunks into {@code partial}, writes the index, renames it. */
  private static CacheIndex commit(
      List<ShardResult> results,
      List<ShardPlan> plans,
      Path partial,
      Path target,
      TeacherTargetPrecomputer precomputer,
      String fingerprint) {
    if (results.size() != plans.size()) {
      throw new IllegalStateException(
          results.size() + " shard results for " + plans.size() + " shards");
    }
    List<CacheIndex.Chunk> chunks = new ArrayList<>();
    try {
      Files.createDirectories(partial);
      for (int i = 0; i < results.size(); i++) {
        ShardResult r = results.get(i);
        ShardPlan plan = plans.get(i);
        int covered = 0;
        for (ShardResult.Chunk c : r.chunks()) {
          Path source = Path.of(r.folder()).resolve(c.file());
          if (Files.size(source) != c.size()) {
            throw new IllegalStateException(
                source + ": " + Files.size(source) + " bytes, the attempt reported " + c.size());
          }
          Files.move(source, partial.resolve(c.file()), StandardCopyOption.ATOMIC_MOVE);
          chunks.add(c.toIndex());
          covered += c.samples().size();
        }
        if (covered != plan.to() - plan.from()) {
          throw new IllegalStateException(
              "shard " + plan + ": the attempt wrote " + covered + " samples");
        }
      }
      DurableFiles.syncDirectory(partial);
      CacheIndex index =
          TeacherTargetCacheWriter.writeIndex(
              partial, precomputer.cacheRecipe(), fingerprint, precomputer.panel(), chunks);
      Files.deleteIfExists(target); // an empty folder given by the caller
      DurableFiles.moveAtomically(partial, target, false);
      return index;
    } catch (IOException e) {
      throw new TeacherCacheException(target, null, "cannot commit the shards: " + e, e);
    }
  }

  /**
   * The index of a finished cache of this recipe and dataset in {@code target}, null when the
   * folder is absent or empty; refuses anything else.
   */
  private static CacheIndex existingCache(
      Path target, TeacherTargetPrecomputer precomputer, String fingerprint) {
    if (!Files.isDirectory(target)) {
      if (Files.exists(target)) {
        throw new IllegalArgumentException(target + " is a file, not a cache folder");
      }
      return null;
    }
    try (Stream<Path> entries = Files.list(target)) {
      if (entries.findAny().isEmpty()) {
        return null;
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(target + ": cannot list the cache folder: " + e, e);
    }
    if (!Files.isRegularFile(target.resolve(CacheIndex.FILE_NAME))) {
      throw new IllegalArgumentException(
          target
              + " holds files but no "
              + CacheIndex.FILE_NAME
              + ": not a finished cache;"
              + " name an empty or absent folder");
    }
    CacheIndex index;
    try (TeacherTargetCache open = TeacherTargetCache.open(target)) {
      index = open.index();
    }
    if (!index.recipe().equals(precomputer.cacheRecipe())) {
      throw new IllegalArgumentException(
          target
              + " holds the targets of another recipe: "
              + index.recipe()
              + "; this job computes "
              + precomputer.cacheRecipe()
              + ". Name another cache folder");
    }
    if (!Objects.equals(index.datasetFingerprint(), fingerprint)) {
      throw new IllegalArgumentException(
          target
              + " holds targets of another dataset (fingerprint "
              + index.datasetFingerprint()
              + ", this dataset's is "
              + fingerprint
              + "). Name another cache folder");
    }
    return index;
  }

  private static void removeLeftover(Path folder) {
    if (Files.exists(folder)) {
      LOG.warn("removing {}, left by a job that did not finish", folder);
      try {
        DurableFiles.deleteRecursively(folder);
      } catch (IOException e) {
        throw new TeacherCacheException(folder, null, "cannot remove the leftover: " + e, e);
      }
    }
  }

  private static void removeQuietly(Path folder) {
    try {
      DurableFiles.deleteRecursively(folder);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", folder, e.toString());
    }
  }

  /**
   * The message of the innermost cause that names a sample (the precomputer's), else Spark's own.
   */
  static String rootMessage(Throwable e) {
    String best = e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("(record ")) {
        return t.getMessage();
      }
    }
    if (best != null) {
      int at = best.indexOf("(record ");
      if (at >= 0) {
        int start = best.lastIndexOf("sample ", at);
        int end = best.indexOf('\n', at);
        return best.substring(Math.max(0, start), end < 0 ? best.length() : end);
      }
    }
    return best;
  }

  /** Configures a job. */
  public static final class Builder {
    private final JavaSparkContext spark;
    private final TeacherSetup setup;
    private int partitions;
    private TaskFaults faults = TaskFaults.none();
    private int threadsPerTask;

    private Builder(JavaSparkContext spark, TeacherSetup setup) {
      this.spark = Objects.requireNonNull(spark, "spark");
      this.setup = Objects.requireNonNull(setup, "setup");
    }

    /**
     * Shards (Spark partitions) to split the samples into; at most one per chunk (default: Spark's
     * default parallelism).
     */
    public Builder optPartitions(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("partitions must be >= 1, got " + n);
      }
      this.partitions = n;
      return this;
    }

    /**
     * libtorch intra-op threads of each task (default: libtorch's own choice); set it to the cores
     * per task ({@code spark.executor.cores / spark.task.cpus}'s share) so that concurrent tasks of
     * one executor do not oversubscribe its cores.
     */
    public Builder optThreadsPerTask(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("threads per task must be >= 0, got " + threads);
      }
      this.threadsPerTask = threads;
      return this;
    }

    /** Faults injected into attempts (tests and drills; none by default). */
    public Builder optFaults(TaskFaults faults) {
      this.faults = Objects.requireNonNull(faults);
      return this;
    }

    /** The job. */
    public SparkTeacherTargets build() {
      return new SparkTeacherTargets(this);
    }
  }
}
