package dev.drivekd.spark;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.train.checkpoint.DurableFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The job's scaling on one machine: a SynthDrive precompute (the shipped teachers, student-tiny's
 * encoding) by the single-machine precomputer, by the Spark job in {@code local[1]} and in {@code
 * local[2]} (two shards, one libtorch thread per task everywhere), interleaved {@code repeats}
 * times, medians reported as JSON. Teachers are loaded once before timing (as an executor keeps
 * them); each Spark context starts before its timing. {@code
 * drivekd-spark/scripts/scaling-bench.sh} runs it.
 *
 * <p>Options: {@code --samples N} (300; three questions per scene), {@code --repeats N} (3), {@code
 * --samples-per-chunk N} (25), {@code --work DIR} (a temporary folder).
 */
public final class ScalingBenchmark {

  private ScalingBenchmark() {}

  /** Runs the benchmark and prints its figures. */
  public static void main(String[] args) throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i], args[i + 1]);
    }
    int samples = Integer.parseInt(o.getOrDefault("--samples", "300"));
    int repeats = Integer.parseInt(o.getOrDefault("--repeats", "3"));
    int perChunk = Integer.parseInt(o.getOrDefault("--samples-per-chunk", "25"));
    Path work =
        o.containsKey("--work")
            ? Path.of(o.get("--work"))
            : Files.createTempDirectory("drivekd-spark-bench");
    Path data = work.resolve("data");
    SynthDriveRecipeFile.generate(data, (samples + 2) / 3);
    Path recipe = SynthDriveRecipeFile.write(data, "bench", "perception", "reasoning", "planning");
    RecipeTeacherSetup setup = RecipeTeacherSetup.of(recipe, perChunk);
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    Precomputation p = ExecutorTeachers.get(setup);
    int n = p.dataset().size();
    double[] single = new double[repeats];
    double[] local1 = new double[repeats];
    double[] local2 = new double[repeats];
    for (int r = -1; r < repeats; r++) { // one warm-up round
      Path round = work.resolve("round" + r);
      long t0 = System.nanoTime();
      p.precomputer().precompute(p.dataset(), round.resolve("single"));
      double s = (System.nanoTime() - t0) / 1e9;
      double s1 = sparkRun(setup, "local[1]", round.resolve("local1"));
      double s2 = sparkRun(setup, "local[2]", round.resolve("local2"));
      DurableFiles.deleteRecursively(round);
      if (r >= 0) {
        single[r] = s;
        local1[r] = s1;
        local2[r] = s2;
      }
      System.err.printf(
          "[bench] round %d: single %.2f s, local[1] %.2f s, local[2] %.2f s%n", r, s, s1, s2);
    }
    double ms = median(single);
    double m1 = median(local1);
    double m2 = median(local2);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("benchmark", "spark-teacher-targets");
    f.put("date", LocalDate.now().toString());
    f.put("cores", Runtime.getRuntime().availableProcessors());
    f.put("samples", n);
    f.put("samples_per_chunk", perChunk);
    f.put("shards", 2);
    f.put("teachers", "SynthDrive's shipped perception, reasoning and planning teachers");
    f.put("repeats", repeats);
    f.put("seconds_single_machine", round(ms));
    f.put("seconds_local_1", round(m1));
    f.put("seconds_local_2", round(m2));
    f.put("samples_per_second_single_machine", round(n / ms));
    f.put("samples_per_second_local_1", round(n / m1));
    f.put("samples_per_second_local_2", round(n / m2));
    f.put("speedup_local_2_over_local_1", round(m1 / m2));
    f.put("scaling_efficiency_local_2", round(m1 / (2 * m2)));
    f.put("overhead_local_1_over_single_machine", round(m1 / ms));
    f.put("seconds_all", Map.of("single", single, "local_1", local1, "local_2", local2));
    System.out.println(
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(f));
    ExecutorTeachers.release(setup);
  }

  private static double sparkRun(RecipeTeacherSetup setup, String master, Path cache) {
    SparkConf conf =
        new SparkConf()
            .setMaster(master)
            .setAppName("drivekd-spark-bench")
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1");
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      long t0 = System.nanoTime();
      SparkTeacherTargets.builder(spark, setup)
          .optPartitions(2)
          .optThreadsPerTask(1)
          .build()
          .run(cache);
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[v.length / 2];
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
