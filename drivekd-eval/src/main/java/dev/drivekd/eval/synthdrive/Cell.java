package dev.drivekd.eval.synthdrive;

import java.util.Locale;

/**
 * One cell of a camera image's grid: the image is cut into {@code grid x grid} cells, one per
 * vision token of the model (InternVL3's pixel shuffle turns 112 px into 4 x 4 tokens), so a tag
 * that names a cell names exactly one vision token.
 *
 * @param camera index of the camera ({@link SynthDriveConfig#cameraNames()})
 * @param row 0 at the top (the sky band), {@code grid - 1} nearest to the ego car
 * @param column 0 at the left
 */
public record Cell(int camera, int row, int column) {

  /**
   * The object tag of the reference format, {@code <c1,CAM_FRONT,0.3750,0.6250>}: object number,
   * camera, and the cell's centre in normalised image coordinates (x, then y).
   */
  public String tag(int objectNumber, SynthDriveConfig config) {
    int grid = config.grid();
    return String.format(
        Locale.ROOT,
        "<c%d,%s,%.4f,%.4f>",
        objectNumber,
        config.cameraNames().get(camera),
        (column + 0.5) / grid,
        (row + 0.5) / grid);
  }

  /** Where it is on the road, in the words answers use: lane and distance. */
  public String position(SynthDriveConfig config) {
    if (row == 0) {
      return "above the road";
    }
    int grid = config.grid();
    String lane = column == 0 ? "left lane" : column == grid - 1 ? "right lane" : "ego lane";
    String distance = row == grid - 1 ? "near" : row == 1 ? "far" : "middle distance";
    return lane + ", " + distance;
  }
}
