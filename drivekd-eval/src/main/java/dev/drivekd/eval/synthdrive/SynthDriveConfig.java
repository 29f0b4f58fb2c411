package dev.drivekd.eval.synthdrive;

import java.util.List;
import java.util.Locale;

/**
 * The knobs of the SynthDrive generator. Everything a generated dataset depends on is here and in
 * the seed; {@link #fingerprint()} names it, so that teachers trained on one generator setting are
 * never reused for another.
 *
 * @param imageSize camera image side in pixels (the model's image size: 112 for the presets)
 * @param grid cells per image side: one per vision token side (4 for the presets' 16 tokens)
 * @param cameras cameras per scene, 1 to 4 ({@code CAM_FRONT}, {@code CAM_BACK}, {@code
 *     CAM_FRONT_LEFT}, {@code CAM_FRONT_RIGHT}); the traffic light is always in front
 * @param minObjects fewest road users per scene (over all cameras)
 * @param maxObjects most road users per scene
 * @param signProbability chance of a road sign in the sky band, a distractor no question is about
 * @param openEndedShare share of perception questions asked open-ended ("Describe object ...")
 * @param noise amplitude of the per-pixel noise, in 8-bit levels
 */
public record SynthDriveConfig(
    int imageSize,
    int grid,
    int cameras,
    int minObjects,
    int maxObjects,
    double signProbability,
    double openEndedShare,
    int noise) {

  /** Bumped whenever the same config and seed would give other scenes, images or questions. */
  public static final int GENERATOR_VERSION = 1;

  private static final List<String> CAMERA_NAMES =
      List.of("CAM_FRONT", "CAM_BACK", "CAM_FRONT_LEFT", "CAM_FRONT_RIGHT");

  /** Validates the knobs. */
  public SynthDriveConfig {
    if (imageSize < 16 || grid < 4 || imageSize % grid != 0) {
      throw new IllegalArgumentException(
          "SynthDrive needs an image side >= 16 px divisible by a grid >= 4, got "
              + imageSize
              + " px and grid "
              + grid);
    }
    if (cameras < 1 || cameras > CAMERA_NAMES.size()) {
      throw new IllegalArgumentException("cameras must be 1 to 4, got " + cameras);
    }
    int roadCells = cameras * (grid - 1) * grid;
    if (minObjects < 2 || maxObjects < minObjects || maxObjects > roadCells) {
      throw new IllegalArgumentException(
          "objects per scene must satisfy 2 <= min <= max <= "
              + roadCells
              + " road cells, got "
              + minObjects
              + ".."
              + maxObjects);
    }
    if (!(signProbability >= 0 && signProbability <= 1)
        || !(openEndedShare >= 0 && openEndedShare <= 1)) {
      throw new IllegalArgumentException(
          "signProbability and openEndedShare must be in [0, 1], got "
              + signProbability
              + " and "
              + openEndedShare);
    }
    if (noise < 0 || noise > 64) {
      throw new IllegalArgumentException("noise must be 0 to 64 levels, got " + noise);
    }
  }

  /**
   * The defaults: one 112 px front camera on a 4 x 4 grid (the presets' 16 vision tokens), 2 to 5
   * road users, a sign in half the scenes, one perception question in ten open-ended, noise 8.
   */
  public static SynthDriveConfig defaults() {
    return new SynthDriveConfig(112, 4, 1, 2, 5, 0.5, 0.1, 8);
  }

  /** The same settings with {@code cameras} cameras. */
  public SynthDriveConfig withCameras(int count) {
    return new SynthDriveConfig(
        imageSize, grid, count, minObjects, maxObjects, signProbability, openEndedShare, noise);
  }

  /** The same settings with {@code min..max} road users per scene. */
  public SynthDriveConfig withObjects(int min, int max) {
    return new SynthDriveConfig(
        imageSize, grid, cameras, min, max, signProbability, openEndedShare, noise);
  }

  /** The camera names of a scene, front first. */
  public List<String> cameraNames() {
    return CAMERA_NAMES.subList(0, cameras);
  }

  /** Side of one cell in pixels. */
  public int cellSize() {
    return imageSize / grid;
  }

  /** The generator version and every knob, as one string (recorded with datasets and teachers). */
  public String fingerprint() {
    return String.format(
        Locale.ROOT,
        "synthdrive/%d image=%d grid=%d cameras=%d objects=%d..%d sign=%.3f open=%.3f noise=%d",
        GENERATOR_VERSION,
        imageSize,
        grid,
        cameras,
        minObjects,
        maxObjects,
        signProbability,
        openEndedShare,
        noise);
  }
}
