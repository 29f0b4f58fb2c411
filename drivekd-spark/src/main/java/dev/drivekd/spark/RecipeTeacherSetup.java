package dev.drivekd.spark;

import dev.drivekd.examples.recipe.Recipe;
import dev.drivekd.examples.recipe.RecipeReader;
import dev.drivekd.examples.recipe.RecipeRun;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The teachers, data and signals of a training recipe (docs/recipes.md), exactly as {@code drivekd
 * cache-teachers} reads them: every path of the recipe must be readable from every executor (a
 * shared or replicated file system).
 *
 * @param recipeFile the recipe, as given
 * @param recipeText its text when the job was submitted: an executor refuses a recipe file that
 *     changed since
 * @param samplesPerChunk samples per cache chunk (the unit of a shard)
 */
public record RecipeTeacherSetup(String recipeFile, String recipeText, int samplesPerChunk)
    implements TeacherSetup {

  /** The recipe file as it is now, with {@code samplesPerChunk} samples per chunk. */
  public static RecipeTeacherSetup of(Path recipeFile, int samplesPerChunk) throws Exception {
    return new RecipeTeacherSetup(
        recipeFile.toAbsolutePath().toString(), Files.readString(recipeFile), samplesPerChunk);
  }

  @Override
  public String key() {
    return "recipe:" + recipeFile + ":" + recipeText.hashCode() + ":" + samplesPerChunk;
  }

  @Override
  public Precomputation open() throws Exception {
    Path file = Path.of(recipeFile);
    if (!Files.readString(file).equals(recipeText)) {
      throw new IllegalStateException(
          recipeFile + ": the recipe changed after the job was submitted; submit it again");
    }
    Recipe recipe = RecipeReader.read(file);
    RecipeRun run = RecipeRun.open(recipeFile, recipe);
    try {
      TeacherTargetPrecomputer precomputer =
          run.teacherTargets().optSamplesPerChunk(samplesPerChunk).build();
      return new Precomputation(run.dataset(), precomputer, run);
    } catch (RuntimeException e) {
      run.close();
      throw e;
    }
  }
}
