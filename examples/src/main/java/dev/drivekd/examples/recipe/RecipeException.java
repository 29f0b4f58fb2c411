package dev.drivekd.examples.recipe;

/**
 * A recipe that cannot run as written: the message starts with the recipe file and the key ({@code
 * r.yaml: teachers.reasoning.layers: -30 is outside -28..27}) and says what is allowed.
 */
public final class RecipeException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String key;

  /** An error at {@code key} (dotted path, empty for the whole recipe). */
  public RecipeException(String file, String key, String problem) {
    super(file + ": " + (key.isEmpty() ? "" : key + ": ") + problem);
    this.key = key;
  }

  /** The dotted key the error is about ({@code ""} for the whole recipe). */
  public String key() {
    return key;
  }
}
