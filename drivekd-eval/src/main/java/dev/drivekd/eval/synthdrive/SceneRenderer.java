package dev.drivekd.eval.synthdrive;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws a scene's camera images: sky band, road with lane marks, the traffic light (lit lamp
 * bright, the others dark), an optional stop sign, and every road user inside its own cell, drawn
 * larger the nearer its row; then one pixel of position jitter per object and per-pixel noise.
 * Shapes tell the kinds apart (a car's cabin, a truck's cargo box and cab, a bus's window row, a
 * motorcycle's rider, a pedestrian's head and legs); the paint is the body's colour. Drawing is
 * without anti-aliasing and seeded by the scene, so one scene gives the same pixels every time.
 */
public final class SceneRenderer {

  private static final Color MARK = new Color(225, 215, 120);
  private static final Color DARK = new Color(25, 25, 28);
  private static final Color GLASS = new Color(150, 175, 190);
  private static final Color SKIN = new Color(225, 180, 140);

  private final SynthDriveConfig config;

  /** A renderer for {@code config}'s image size and grid. */
  public SceneRenderer(SynthDriveConfig config) {
    this.config = config;
  }

  /** One image per camera, front first. */
  public List<BufferedImage> render(Scene scene) {
    SplittableRandom random = new SplittableRandom(scene.seed() ^ 0x5DEECE66DL);
    List<BufferedImage> images = new ArrayList<>();
    for (int camera = 0; camera < config.cameras(); camera++) {
      images.add(render(scene, camera, random));
    }
    return images;
  }

  private BufferedImage render(Scene scene, int camera, SplittableRandom random) {
    int size = config.imageSize();
    int cell = config.cellSize();
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
      Lighting light = scene.lighting();
      g.setColor(light.sky());
      g.fillRect(0, 0, size, cell);
      g.setColor(light.road());
      g.fillRect(0, cell, size, size - cell);
      laneMarks(g, light);
      if (camera == scene.light().camera()) {
        trafficLight(g, scene.light(), scene.lightState(), light);
        scene.sign().ifPresent(s -> stopSign(g, s, light));
      }
      for (SceneObject o : scene.objects()) {
        if (o.cell().camera() == camera) {
          int dx = random.nextInt(3) - 1;
          int dy = random.nextInt(3) - 1;
          roadUser(g, o, light, dx, dy);
        }
      }
    } finally {
      g.dispose();
    }
    addNoise(image, random);
    return image;
  }

  private void laneMarks(Graphics2D g, Lighting light) {
    int size = config.imageSize();
    int cell = config.cellSize();
    g.setColor(light.shade(MARK));
    for (int x : new int[] {cell, size - cell}) {
      for (int y = cell + 2; y < size; y += 10) {
        g.fillRect(x - 1, y, 2, 6);
      }
    }
  }

  private void trafficLight(Graphics2D g, Cell at, LightState state, Lighting light) {
    int cell = config.cellSize();
    int x0 = at.column() * cell;
    int w = Math.max(6, cell * 2 / 5);
    int h = cell - 4;
    int left = x0 + (cell - w) / 2;
    g.setColor(DARK);
    g.fillRect(left, 2, w, h);
    int lamp = Math.max(3, w - 4);
    LightState[] order = {LightState.RED, LightState.YELLOW, LightState.GREEN};
    Color[] lit = {new Color(255, 40, 30), new Color(255, 200, 0), new Color(40, 230, 80)};
    for (int i = 0; i < 3; i++) {
      boolean on = order[i] == state;
      Color c = on ? lit[i] : light.shade(lit[i]).darker().darker().darker();
      g.setColor(c);
      g.fillOval(left + (w - lamp) / 2, 3 + i * (h / 3), lamp, lamp);
    }
  }

  private void stopSign(Graphics2D g, Cell at, Lighting light) {
    int cell = config.cellSize();
    int cx = at.column() * cell + cell / 2;
    int cy = cell / 2;
    int r = cell * 3 / 8;
    Polygon octagon = new Polygon();
    for (int i = 0; i < 8; i++) {
      double a = Math.PI / 8 + i * Math.PI / 4;
      octagon.addPoint(
          cx + (int) Math.round(r * Math.cos(a)), cy + (int) Math.round(r * Math.sin(a)));
    }
    g.setColor(light.shade(new Color(200, 20, 20)));
    g.fillPolygon(octagon);
    g.setColor(light.shade(Color.WHITE));
    g.fillRect(cx - r / 2, cy - 1, r, 2);
  }

  private void roadUser(Graphics2D g, SceneObject o, Lighting light, int dx, int dy) {
    int cell = config.cellSize();
    int grid = config.grid();
    Cell at = o.cell();
    // nearer rows draw larger: the far road row at 55 %, the nearest at 100 % of the cell
    double scale = 0.55 + 0.45 * (at.row() - 1) / Math.max(1, grid - 2);
    int cx = at.column() * cell + cell / 2 + dx;
    int bottom = (at.row() + 1) * cell - 2 + dy;
    Color paint = light.shade(o.paint().rgb());
    Shapes s = new Shapes(g, cx, bottom, scale * cell / 28.0);
    switch (o.kind()) {
      case CAR -> {
        s.box(22, 10, 0, paint);
        s.box(14, 7, 10, light.shade(GLASS));
        s.wheels(16);
      }
      case TRUCK -> {
        s.boxAt(-13, 15, 20, 0, paint);
        s.boxAt(3, 10, 13, 0, paint.darker());
        s.boxAt(5, 6, 5, 8, light.shade(GLASS));
        s.wheels(18);
      }
      case BUS -> {
        s.box(26, 20, 0, paint);
        for (int i = 0; i < 4; i++) {
          s.boxAt(-11 + 6 * i, 4, 4, 13, light.shade(GLASS));
        }
        s.wheels(20);
      }
      case MOTORCYCLE -> {
        s.box(6, 6, 3, paint);
        s.boxAt(-2, 4, 7, 9, DARK);
        s.head(19, light.shade(SKIN));
        s.wheels(8);
      }
      case PEDESTRIAN -> {
        s.boxAt(-3, 2, 7, 0, DARK);
        s.boxAt(1, 2, 7, 0, DARK);
        s.box(7, 10, 7, paint);
        s.head(20, light.shade(SKIN));
      }
    }
    if (light == Lighting.NIGHT && o.kind().isVehicle()) {
      s.boxAt(-8, 2, 2, 2, new Color(255, 240, 150));
      s.boxAt(6, 2, 2, 2, new Color(255, 240, 150));
    }
  }

  private void addNoise(BufferedImage image, SplittableRandom random) {
    int amplitude = config.noise();
    if (amplitude == 0) {
      return;
    }
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y);
        int n = random.nextInt(2 * amplitude + 1) - amplitude;
        int r = clamp(((rgb >> 16) & 0xff) + n);
        int gr = clamp(((rgb >> 8) & 0xff) + n);
        int b = clamp((rgb & 0xff) + n);
        image.setRGB(x, y, (r << 16) | (gr << 8) | b);
      }
    }
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /** Shapes in a 28-px design frame, scaled and placed on a bottom-centre anchor. */
  private static final class Shapes {
    private final Graphics2D g;
    private final int cx;
    private final int bottom;
    private final double scale;

    Shapes(Graphics2D g, int cx, int bottom, double scale) {
      this.g = g;
      this.cx = cx;
      this.bottom = bottom;
      this.scale = scale;
    }

    private int px(double v) {
      return (int) Math.round(v * scale);
    }

    /** A box {@code w} wide and {@code h} high, centred, its base {@code lift} above the bottom. */
    void box(int w, int h, int lift, Color c) {
      boxAt(-w / 2.0, w, h, lift, c);
    }

    /** A box whose left edge is {@code left} from the centre line. */
    void boxAt(double left, int w, int h, int lift, Color c) {
      g.setColor(c);
      g.fillRect(cx + px(left), bottom - px(lift + h), Math.max(1, px(w)), Math.max(1, px(h)));
    }

    /** Two wheels {@code span} apart. */
    void wheels(int span) {
      g.setColor(DARK);
      int d = Math.max(2, px(4));
      g.fillRect(cx - px(span / 2.0), bottom - d, d, d);
      g.fillRect(cx + px(span / 2.0) - d, bottom - d, d, d);
    }

    /** A head whose top is {@code top} above the bottom. */
    void head(int top, Color c) {
      g.setColor(c);
      int d = Math.max(2, px(5));
      g.fillOval(cx - d / 2, bottom - px(top), d, d);
    }
  }
}
