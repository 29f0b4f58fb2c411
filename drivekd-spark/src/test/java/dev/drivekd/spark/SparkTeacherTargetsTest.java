package dev.drivekd.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.teachers.cache.CacheIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job in {@code local[2]} on SynthDrive data with its three teachers: the committed cache
 * is the single-machine precompute's, byte for byte, also when an attempt dies mid-write; bad input
 * and a foreign cache folder are refused.
 */
class SparkTeacherTargetsTest {
  private static final int PER_CHUNK = 4;

  @TempDir static Path data;
  @TempDir Path dir;

  private static JavaSparkContext spark;
  private static Path recipe;
  private static Path single;

  @BeforeAll
  static void start() throws Exception {
    SynthDriveRecipeFile.generate(data, 6);
    recipe = writeRecipe(data, "all", "perception", "reasoning", "planning");
    // 6 scenes x 3 questions = 18 samples: chunks of 4, 5 chunks, the last one short
    single = data.resolve("single-machine-cache");
    Precomputation p = RecipeTeacherSetup.of(recipe, PER_CHUNK).open();
    try {
      p.precomputer().precompute(p.dataset(), single);
    } finally {
      p.resources().close();
    }
    SparkConf conf =
        new SparkConf()
            .setMaster("local[2,2]") // two task threads; a task may fail once and be retried
            .setAppName("drivekd-spark-test")
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1");
    spark = new JavaSparkContext(conf);
  }

  @AfterAll
  static void stop() throws Exception {
    if (spark != null) {
      spark.close();
    }
    ExecutorTeachers.release(RecipeTeacherSetup.of(recipe, PER_CHUNK));
  }

  static Path writeRecipe(Path data, String name, String... teachers) throws IOException {
    return SynthDriveRecipeFile.write(data, name, teachers);
  }

  private SparkTeacherTargets job(TaskFaults faults) throws Exception {
    return SparkTeacherTargets.builder(spark, RecipeTeacherSetup.of(recipe, PER_CHUNK))
        .optPartitions(2)
        .optThreadsPerTask(1)
        .optFaults(faults)
        .build();
  }

  @Test
  void twoWorkersWriteTheSingleMachineCacheByteForByte() throws Exception {
    Path cache = dir.resolve("cache");
    SparkTeacherTargets.Result r = job(TaskFaults.none()).run(cache);
    assertFalse(r.alreadyComplete());
    assertEquals(18, r.index().samples());
    assertEquals(2, r.shards().size());
    assertEquals(List.of(3, 2), r.shards().stream().map(s -> s.chunks().size()).toList());
    assertSameCache(single, cache);
    assertFalse(Files.exists(dir.resolve("cache" + SparkTeacherTargets.ATTEMPTS_SUFFIX)));
    // again on the finished cache: nothing runs, nothing changes
    SparkTeacherTargets.Result again = job(TaskFaults.none()).run(cache);
    assertTrue(again.alreadyComplete());
    assertSameCache(single, cache);
  }

  @Test
  void anAttemptThatDiesMidChunkLeavesNothingInTheCommittedCache() throws Exception {
    Path cache = dir.resolve("cache");
    // partition 1 holds samples 12..17: its first attempt dies after two samples of its first
    // chunk, with a half-written chunk file in its attempt folder
    SparkTeacherTargets.Result r = job(TaskFaults.firstAttemptDies(1, 2)).run(cache);
    assertEquals(0, r.shards().get(0).attempt());
    assertEquals(1, r.shards().get(1).attempt(), "partition 1 was retried");
    assertSameCache(single, cache);
    CacheIndex index = r.index();
    long listed = index.chunks().stream().mapToLong(c -> c.samples().size()).sum();
    assertEquals(18, listed, "every sample listed once");
    assertFalse(Files.exists(dir.resolve("cache" + SparkTeacherTargets.ATTEMPTS_SUFFIX)));
  }

  @Test
  void aBadImageFailsTheJobNamingTheRecordAndLeavesNoCache() throws Exception {
    Path copy = dir.resolve("data");
    copyTree(data.resolve("images"), copy.resolve("images"));
    Files.copy(data.resolve("labelled.json"), copy.resolve("labelled.json"));
    Files.copy(data.resolve("tokenizer.json"), copy.resolve("tokenizer.json"));
    copyTree(data.resolve("teachers"), copy.resolve("teachers"));
    String json = Files.readString(copy.resolve("labelled.json"));
    // the image of a sample of the second shard, made unreadable
    String image = firstImageAfter(json, 13);
    Files.write(copy.resolve(image), new byte[] {1, 2, 3, 4});
    Path broken = writeRecipe(copy, "broken", "perception", "reasoning", "planning");
    Path cache = dir.resolve("cache");
    SparkTeacherTargets job =
        SparkTeacherTargets.builder(spark, RecipeTeacherSetup.of(broken, PER_CHUNK))
            .optPartitions(2)
            .build();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> job.run(cache));
    assertTrue(e.getMessage().contains("(record "), e.getMessage());
    assertTrue(e.getMessage().contains("labelled.json"), e.getMessage());
    assertFalse(Files.exists(cache), "no cache from a failed job");
    assertFalse(Files.exists(dir.resolve("cache" + SparkTeacherTargets.ATTEMPTS_SUFFIX)));
    ExecutorTeachers.release(RecipeTeacherSetup.of(broken, PER_CHUNK));
  }

  @Test
  void aCacheOfAnotherRecipeIsRefusedBeforeAnyTaskRuns() throws Exception {
    Path other = writeRecipe(data, "perception-only", "perception");
    Path cache = dir.resolve("cache");
    RecipeTeacherSetup otherSetup = RecipeTeacherSetup.of(other, PER_CHUNK);
    SparkTeacherTargets.builder(spark, otherSetup).optPartitions(2).build().run(cache);
    ExecutorTeachers.release(otherSetup);
    long before = spark.sc().statusTracker().getJobIdsForGroup(null).length;
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> job(TaskFaults.none()).run(cache));
    assertTrue(e.getMessage().contains("holds the targets of another recipe"), e.getMessage());
    assertEquals(before, spark.sc().statusTracker().getJobIdsForGroup(null).length, "no job ran");
  }

  /** Same index and chunk files, byte for byte. */
  private static void assertSameCache(Path expected, Path actual) throws IOException {
    assertEquals(
        -1L,
        Files.mismatch(
            expected.resolve(CacheIndex.FILE_NAME), actual.resolve(CacheIndex.FILE_NAME)),
        "index.json");
    try (var files = Files.list(expected)) {
      for (Path f : files.toList()) {
        assertEquals(-1L, Files.mismatch(f, actual.resolve(f.getFileName())), f.toString());
      }
    }
    try (var files = Files.list(actual)) {
      assertEquals(Files.list(expected).count(), files.count(), "files in " + actual);
    }
  }

  private static String firstImageAfter(String json, int sample) {
    int at = 0;
    for (int i = 0; i <= sample; i++) {
      at = json.indexOf("\"images/", at + 1);
    }
    return json.substring(at + 1, json.indexOf('"', at + 1));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
