package dev.drivekd.examples.demo;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.weighting.TaskKeys;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The demo's training curves as a PNG: on the left the answer cross-entropy of both students, on
 * the right the Drive-KD student's three distillation losses (log scale), each a moving mean over
 * one epoch of micro-steps.
 */
final class LossPlot {

  private static final int PANEL = 460;
  private static final int MARGIN = 56;
  private static final Color[] COLORS = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)
  };

  private LossPlot() {}

  /** Writes the plot; each curve is smoothed over {@code window} micro-steps (one epoch). */
  static void write(
      Path png,
      TrainingSummary plain,
      TrainingSummary distilled,
      Map<Capability, String> tasks,
      int window)
      throws IOException {
    Map<String, double[]> ce = new LinkedHashMap<>();
    ce.put("CE-only student", smooth(plain.losses().get(TaskKeys.CE), window));
    ce.put("Drive-KD student", smooth(distilled.losses().get(TaskKeys.CE), window));
    Map<String, double[]> kd = new LinkedHashMap<>();
    for (Map.Entry<Capability, String> e : tasks.entrySet()) {
      List<Float> values = distilled.losses().get(e.getValue());
      if (values != null) {
        kd.put(e.getKey().name().toLowerCase() + " (" + e.getValue() + ")", smooth(values, window));
      }
    }
    BufferedImage image =
        new BufferedImage(2 * PANEL + 3 * MARGIN, PANEL + 2 * MARGIN, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, image.getWidth(), image.getHeight());
      panel(g, MARGIN, MARGIN, "answer cross-entropy", ce, false, window);
      panel(g, 2 * MARGIN + PANEL, MARGIN, "Drive-KD attention losses (log)", kd, true, window);
    } finally {
      g.dispose();
    }
    Files.createDirectories(png.toAbsolutePath().getParent());
    if (!ImageIO.write(image, "png", png.toFile())) {
      throw new IOException("no PNG writer in this JVM for " + png);
    }
  }

  /** The moving mean of the finite values over the last {@code window} micro-steps. */
  static double[] smooth(List<Float> values, int window) {
    if (values == null) {
      return new double[0];
    }
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      double sum = 0;
      int n = 0;
      for (int j = Math.max(0, i - window + 1); j <= i; j++) {
        float v = values.get(j);
        if (Float.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      out[i] = n == 0 ? Double.NaN : sum / n;
    }
    return out;
  }

  private static void panel(
      Graphics2D g,
      int x0,
      int y0,
      String title,
      Map<String, double[]> series,
      boolean log,
      int window) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    int steps = 1;
    for (double[] s : series.values()) {
      steps = Math.max(steps, s.length);
      for (double v : s) {
        if (Double.isFinite(v) && (!log || v > 0)) {
          double t = log ? Math.log10(v) : v;
          lo = Math.min(lo, t);
          hi = Math.max(hi, t);
        }
      }
    }
    if (!(hi > lo)) {
      lo = Double.isFinite(lo) ? lo - 1 : 0;
      hi = lo + 2;
    }
    double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    g.setColor(new Color(0.93f, 0.93f, 0.93f));
    g.fillRect(x0, y0, PANEL, PANEL);
    g.setColor(Color.DARK_GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString(title, x0, y0 - 12);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (int k = 0; k <= 4; k++) {
      double t = lo + (hi - lo) * k / 4;
      int y = y0 + PANEL - (int) (PANEL * (t - lo) / (hi - lo));
      g.setColor(Color.WHITE);
      g.drawLine(x0, y, x0 + PANEL, y);
      g.setColor(Color.DARK_GRAY);
      String label = log ? String.format("%.1e", Math.pow(10, t)) : String.format("%.2f", t);
      g.drawString(label, x0 - 52, y + 4);
    }
    g.drawString(
        "micro-step (moving mean over " + window + ")", x0 + PANEL / 2 - 90, y0 + PANEL + 30);
    g.drawString("0", x0, y0 + PANEL + 14);
    g.drawString(String.valueOf(steps), x0 + PANEL - 20, y0 + PANEL + 14);
    int c = 0;
    List<String> names = new ArrayList<>(series.keySet());
    for (String name : names) {
      double[] s = series.get(name);
      Path2D.Double line = new Path2D.Double();
      boolean started = false;
      for (int i = 0; i < s.length; i++) {
        if (!Double.isFinite(s[i]) || (log && s[i] <= 0)) {
          continue;
        }
        double t = log ? Math.log10(s[i]) : s[i];
        double x = x0 + PANEL * (steps == 1 ? 0.5 : i / (double) (steps - 1));
        double y = y0 + PANEL - PANEL * (t - lo) / (hi - lo);
        if (started) {
          line.lineTo(x, y);
        } else {
          line.moveTo(x, y);
          started = true;
        }
      }
      Color color = COLORS[c % COLORS.length];
      g.setColor(color);
      g.setStroke(new BasicStroke(2f));
      g.draw(line);
      g.fillRect(x0 + 10, y0 + 12 + 16 * c, 14, 4);
      g.setColor(Color.DARK_GRAY);
      g.drawString(name, x0 + 30, y0 + 18 + 16 * c);
      c++;
    }
  }
}
