package dev.drivekd.eval.synthdrive;

/**
 * A road user in a scene.
 *
 * @param kind what it is
 * @param paint its colour (a pedestrian's clothes)
 * @param cell where it stands
 */
public record SceneObject(ObjectKind kind, Paint paint, Cell cell) {

  /** {@code "blue car"}. */
  public String description() {
    return paint.word() + " " + kind.word();
  }
}
