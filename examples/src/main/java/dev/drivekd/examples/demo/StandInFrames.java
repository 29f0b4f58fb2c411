package dev.drivekd.examples.demo;

import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageReference;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * Stand-in camera frames for a dataset whose images are not here. The reference demo data names
 * nuScenes and BDD100K frames, which are not redistributable; the demo draws a plain road scene in
 * their place (sky, road, lane marks, a few vehicles) and puts a vehicle where the question's
 * object markers ({@code <c1,CAM_FRONT,x,y>}) point on that camera, so that a question about an
 * object has something at the place it names. Each frame depends only on its path and the sample.
 */
public final class StandInFrames {

  /** The object marker of method.md 6.5: id, camera, x and y in [0, 1]. */
  private static final Pattern MARKER =
      Pattern.compile("<c\\d+,([A-Z_]+),([0-9]*\\.?[0-9]+),([0-9]*\\.?[0-9]+)>");

  private static final Pattern CAMERA = Pattern.compile("(CAM_[A-Z_]+?)(?:__|/|$)");

  private StandInFrames() {}

  /** A marked object: the camera it is seen by and its normalised position. */
  record Marker(String camera, double x, double y) {}

  /**
   * Writes a stand-in frame for every image of {@code dataset} (read text-only) whose file does not
   * exist, {@code side} pixels square.
   *
   * @return the paths written
   */
  public static List<Path> writeMissing(DrivingDataset dataset, int side) {
    List<Path> written = new ArrayList<>();
    for (DrivingSample sample : dataset.samples()) {
      List<Marker> markers = markers(sample.question());
      for (ImageReference image : sample.images()) {
        Path file = image.resolvedPath();
        if (Files.exists(file)) {
          continue;
        }
        String camera = camera(image.rawPath());
        List<Marker> here = markers.stream().filter(m -> m.camera().equals(camera)).toList();
        try {
          Files.createDirectories(file.toAbsolutePath().getParent());
          if (!ImageIO.write(render(image.rawPath(), camera, here, side), "jpg", file.toFile())) {
            throw new IOException("no JPEG writer in this JVM");
          }
        } catch (IOException e) {
          throw new UncheckedIOException(
              "Cannot write a stand-in frame for record "
                  + sample.recordIndex()
                  + " of "
                  + sample.sourceFile()
                  + ", field "
                  + image.field()
                  + ": "
                  + file,
              e);
        }
        written.add(file);
      }
    }
    return written;
  }

  /** The object markers of a question, in order. */
  static List<Marker> markers(String question) {
    List<Marker> out = new ArrayList<>();
    Matcher m = MARKER.matcher(question);
    while (m.find()) {
      out.add(
          new Marker(m.group(1), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))));
    }
    return out;
  }

  /** The camera an image path names (nuScenes folders and file names); else the front camera. */
  static String camera(String rawPath) {
    Matcher m = CAMERA.matcher(rawPath);
    return m.find() ? m.group(1) : "CAM_FRONT";
  }

  /** One frame: the same path always gives the same picture. */
  static BufferedImage render(String rawPath, String camera, List<Marker> markers, int side) {
    Random random = new Random(rawPath.hashCode() * 0x9E3779B97F4A7C15L);
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      int horizon = (int) (side * (0.38 + 0.08 * random.nextDouble()));
      float daylight = 0.45f + 0.5f * random.nextFloat();
      for (int y = 0; y < horizon; y++) {
        float t = y / (float) horizon;
        g.setColor(
            new Color(
                clamp(daylight * (0.45f + 0.3f * t)),
                clamp(daylight * (0.6f + 0.25f * t)),
                clamp(daylight * (0.85f + 0.1f * t))));
        g.drawLine(0, y, side, y);
      }
      g.setColor(new Color(clamp(0.3f * daylight + 0.1f), clamp(0.45f * daylight), 0.15f));
      g.fillRect(0, horizon, side, side - horizon);
      // the road narrows to a vanishing point that side cameras see off-centre
      int vanish = side / 2 + (int) (side * yaw(camera));
      int[] xs = {vanish - side / 40, vanish + side / 40, side + side / 3, -side / 3};
      int[] ys = {horizon, horizon, side, side};
      g.setColor(new Color(clamp(0.28f * daylight + 0.05f), clamp(0.28f * daylight + 0.05f), 0.3f));
      g.fillPolygon(xs, ys, 4);
      g.setColor(new Color(0.92f, 0.92f, 0.88f));
      for (int k = 0; k < 8; k++) {
        double a = k / 8.0;
        double b = (k + 0.5) / 8.0;
        int ya = horizon + (int) ((side - horizon) * a * a);
        int yb = horizon + (int) ((side - horizon) * b * b);
        g.drawLine(vanish, ya, vanish, yb);
      }
      int vehicles = 1 + random.nextInt(3);
      for (int k = 0; k < vehicles; k++) {
        double depth = 0.15 + 0.7 * random.nextDouble();
        int y = horizon + (int) ((side - horizon) * depth);
        int x = vanish + (int) ((random.nextDouble() - 0.5) * side * depth * 1.4);
        vehicle(g, x, y, depth, side, randomPaint(random));
      }
      for (Marker m : markers) {
        int y = (int) (m.y() * side);
        double depth = Math.max(0.1, (y - horizon) / (double) (side - horizon));
        vehicle(g, (int) (m.x() * side), y, depth, side, new Color(0.08f, 0.08f, 0.1f));
      }
    } finally {
      g.dispose();
    }
    return image;
  }

  private static void vehicle(Graphics2D g, int x, int y, double depth, int side, Color paint) {
    int w = Math.max(3, (int) (side * 0.22 * depth));
    int h = Math.max(2, (int) (w * 0.7));
    g.setColor(paint);
    g.fillRoundRect(x - w / 2, y - h, w, h, w / 5, w / 5);
    g.setColor(new Color(0.55f, 0.7f, 0.8f));
    g.fillRect(x - w / 3, y - h + h / 6, 2 * w / 3, h / 3);
    g.setColor(new Color(0.8f, 0.1f, 0.1f));
    g.fillRect(x - w / 2, y - h / 3, w / 8 + 1, h / 6 + 1);
    g.fillRect(x + w / 2 - w / 8 - 1, y - h / 3, w / 8 + 1, h / 6 + 1);
  }

  private static double yaw(String camera) {
    return switch (camera) {
      case "CAM_FRONT_LEFT", "CAM_BACK_RIGHT" -> 0.3;
      case "CAM_FRONT_RIGHT", "CAM_BACK_LEFT" -> -0.3;
      default -> 0.0;
    };
  }

  private static Color randomPaint(Random random) {
    Color[] paints = {
      new Color(0.9f, 0.9f, 0.92f),
      new Color(0.1f, 0.1f, 0.12f),
      new Color(0.6f, 0.1f, 0.1f),
      new Color(0.15f, 0.25f, 0.55f),
      new Color(0.55f, 0.55f, 0.58f),
    };
    return paints[random.nextInt(paints.length)];
  }

  private static float clamp(float v) {
    return Math.max(0f, Math.min(1f, v));
  }
}
