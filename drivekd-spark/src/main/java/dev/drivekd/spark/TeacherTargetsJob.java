package dev.drivekd.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.examples.recipe.Recipe;
import dev.drivekd.examples.recipe.RecipeReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code spark-submit --class dev.drivekd.spark.TeacherTargetsJob drivekd-spark.jar --recipe
 * r.yaml}: fills the teacher-target cache the recipe names ({@code teachers.cache}) on the cluster
 * the job is submitted to, as {@code drivekd cache-teachers} does on one machine.
 *
 * <p>Options: {@code --recipe FILE} (required), {@code --partitions N} (default: Spark's default
 * parallelism), {@code --samples-per-chunk N} (64; a shard is a run of whole chunks), {@code
 * --threads-per-task N} (libtorch threads of each task; default libtorch's choice), {@code --cache
 * DIR} (instead of the recipe's {@code teachers.cache}). Without {@code spark.master} (not
 * submitted) it runs in {@code local[*]}. Prints the job's figures as one JSON object.
 */
public final class TeacherTargetsJob {

  private TeacherTargetsJob() {}

  /** Runs the job; exits 2 on bad arguments. */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = parse(args);
    if (options == null || !options.containsKey("--recipe")) {
      System.err.println(
          "usage: TeacherTargetsJob --recipe FILE [--partitions N] [--samples-per-chunk N]"
              + " [--threads-per-task N] [--cache DIR]");
      System.exit(2);
      return;
    }
    Path recipeFile = Path.of(options.get("--recipe"));
    Recipe recipe = RecipeReader.read(recipeFile);
    String cache = options.getOrDefault("--cache", recipe.teacherCache());
    if (cache == null) {
      System.err.println(recipeFile + ": teachers.cache: missing (the folder to fill); or --cache");
      System.exit(2);
      return;
    }
    int perChunk = Integer.parseInt(options.getOrDefault("--samples-per-chunk", "64"));
    SparkConf conf =
        new SparkConf()
            .setAppName("drivekd teacher targets")
            .setIfMissing("spark.master", "local[*]");
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      SparkTeacherTargets.Builder job =
          SparkTeacherTargets.builder(spark, RecipeTeacherSetup.of(recipeFile, perChunk));
      if (options.containsKey("--partitions")) {
        job.optPartitions(Integer.parseInt(options.get("--partitions")));
      }
      if (options.containsKey("--threads-per-task")) {
        job.optThreadsPerTask(Integer.parseInt(options.get("--threads-per-task")));
      }
      SparkTeacherTargets.Result r = job.build().run(Path.of(cache));
      System.out.println(
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsString(figures(r, cache, spark.master())));
    }
  }

  static Map<String, Object> figures(SparkTeacherTargets.Result r, String cache, String master) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("cache", Path.of(cache).toAbsolutePath().toString());
    f.put("master", master);
    f.put("samples", r.index().samples());
    f.put("chunks", r.index().chunks().size());
    f.put("shards", r.shards().size());
    f.put("already_complete", r.alreadyComplete());
    f.put("seconds", Math.round(r.seconds() * 100) / 100.0);
    List<Map<String, Object>> shards = new ArrayList<>();
    for (ShardResult s : r.shards()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("partition", s.partition());
      m.put("attempt", s.attempt());
      m.put("chunks", s.chunks().size());
      m.put("seconds", Math.round(s.seconds() * 100) / 100.0);
      shards.add(m);
    }
    f.put("shard_attempts", shards);
    return f;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        return null;
      }
      out.put(args[i], args[i + 1]);
    }
    return out;
  }
}
