package dev.drivekd.examples.cli;

import dev.drivekd.examples.recipe.Recipe;
import dev.drivekd.examples.recipe.RecipeReader;
import dev.drivekd.examples.recipe.RecipeRun;
import dev.drivekd.teachers.cache.CacheIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code drivekd cache-teachers --recipe r.yaml}: fills the teacher-target cache a recipe names.
 */
@Command(
    name = "cache-teachers",
    mixinStandardHelpOptions = true,
    description = {
      "Run the recipe's teachers once over its data and write the targets its signals need into"
          + " the folder teachers.cache names; train then reads them instead of running the"
          + " teachers (same result, bit for bit)."
    })
final class CacheTeachersCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--recipe", required = true, description = "The recipe file (YAML).")
  Path recipeFile;

  @Option(names = "--json", description = "Print the cache's figures as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Recipe recipe = RecipeReader.read(recipeFile);
    if (recipe.teacherCache() == null) {
      throw new IllegalArgumentException(
          recipeFile + ": teachers.cache: missing (the folder to fill)");
    }
    if (recipe.teachers().isEmpty()) {
      throw new IllegalArgumentException(recipeFile + ": teachers: no teacher to cache");
    }
    if (recipe.teachers().values().stream().allMatch(Recipe.Model::live)) {
      throw new IllegalArgumentException(
          recipeFile + ": teachers: every teacher is live; nothing to cache");
    }
    Path cache = Path.of(recipe.teacherCache());
    if (Files.exists(cache)) {
      throw new IllegalArgumentException(
          "teachers.cache "
              + cache.toAbsolutePath()
              + " exists already: remove it or name another");
    }
    try (RecipeRun run = RecipeRun.open(recipeFile.toString(), recipe)) {
      long began = System.nanoTime();
      CacheIndex index =
          run.teacherTargets()
              .build()
              .precompute(run.dataset(), cache); // via a .partial folder, renamed when done
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("cache", cache.toAbsolutePath().toString());
      f.put("samples", run.dataset().size());
      f.put("seconds", Math.round((System.nanoTime() - began) / 1e7) / 100.0);
      f.put("index", String.valueOf(index));
      if (json) {
        JsonOutput.print(spec.commandLine().getOut(), f);
      } else {
        spec.commandLine()
            .getOut()
            .printf(
                "cached teacher targets of %d samples in %s%n",
                run.dataset().size(), cache.toAbsolutePath());
        spec.commandLine().getOut().flush();
      }
      return 0;
    }
  }
}
