package dev.drivekd.eval.synthdrive;

import java.util.List;
import java.util.Optional;

/**
 * One SynthDrive scene: the lighting, the traffic light above the road in the front camera, an
 * optional road sign (a distractor no question asks about), and the road users.
 *
 * @param id the scene's name, unique within a dataset ({@code train-000042})
 * @param seed the seed the scene was drawn from
 * @param lighting time of day
 * @param light the traffic light's cell (row 0 of the front camera)
 * @param lightState its lit lamp
 * @param sign the sign's cell, if there is one
 * @param objects the road users, each in a cell of its own
 */
public record Scene(
    String id,
    long seed,
    Lighting lighting,
    Cell light,
    LightState lightState,
    Optional<Cell> sign,
    List<SceneObject> objects) {

  /** Defensive copy. */
  public Scene {
    objects = List.copyOf(objects);
  }

  /** The road user in {@code cell}, if any. */
  public Optional<SceneObject> at(Cell cell) {
    return objects.stream().filter(o -> o.cell().equals(cell)).findFirst();
  }
}
