package dev.drivekd.eval.synthdrive;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Draws scenes: the same config and seed give the same scene on every machine ({@link
 * SplittableRandom} is specified bit for bit). The traffic light and the optional sign sit in the
 * front camera's sky band (row 0); road users stand in road cells (rows 1 and below), one per cell,
 * on any camera. Pedestrians keep mostly to the outer lanes but step into the ego lane at times.
 * The light is red in 30 % of the scenes, yellow in 20 %, green in 50 %.
 */
public final class SceneGenerator {

  private static final ObjectKind[] KINDS = ObjectKind.values();
  private static final double[] KIND_WEIGHTS = {0.35, 0.15, 0.10, 0.15, 0.25};
  private static final double PEDESTRIAN_IN_EGO_LANE = 0.3;

  private final SynthDriveConfig config;

  /** A generator for {@code config}. */
  public SceneGenerator(SynthDriveConfig config) {
    this.config = config;
  }

  /** The scene of {@code seed}, named {@code id}. */
  public Scene generate(String id, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int grid = config.grid();
    Lighting lighting = lighting(random);
    Cell light = new Cell(0, 0, random.nextInt(grid));
    double u = random.nextDouble();
    LightState state = u < 0.3 ? LightState.RED : u < 0.5 ? LightState.YELLOW : LightState.GREEN;
    Optional<Cell> sign = Optional.empty();
    if (random.nextDouble() < config.signProbability()) {
      int column = (light.column() + 1 + random.nextInt(grid - 1)) % grid;
      sign = Optional.of(new Cell(0, 0, column));
    }
    int count = config.minObjects() + random.nextInt(config.maxObjects() - config.minObjects() + 1);
    Set<Cell> taken = new HashSet<>();
    List<SceneObject> objects = new ArrayList<>();
    while (objects.size() < count) {
      ObjectKind kind = pick(random);
      int camera =
          config.cameras() == 1 || random.nextDouble() < 0.5 ? 0 : random.nextInt(config.cameras());
      int row = 1 + random.nextInt(grid - 1);
      int column;
      if (kind == ObjectKind.PEDESTRIAN && random.nextDouble() >= PEDESTRIAN_IN_EGO_LANE) {
        column = random.nextBoolean() ? 0 : grid - 1;
      } else {
        column = random.nextInt(grid);
      }
      Cell cell = new Cell(camera, row, column);
      if (taken.add(cell)) {
        Paint paint = Paint.values()[random.nextInt(Paint.values().length)];
        objects.add(new SceneObject(kind, paint, cell));
      }
    }
    return new Scene(id, seed, lighting, light, state, sign, objects);
  }

  private static Lighting lighting(SplittableRandom random) {
    double u = random.nextDouble();
    return u < 0.6 ? Lighting.DAY : u < 0.8 ? Lighting.DUSK : Lighting.NIGHT;
  }

  private static ObjectKind pick(SplittableRandom random) {
    double u = random.nextDouble();
    for (int i = 0; i < KINDS.length; i++) {
      u -= KIND_WEIGHTS[i];
      if (u < 0) {
        return KINDS[i];
      }
    }
    return KINDS[KINDS.length - 1];
  }
}
