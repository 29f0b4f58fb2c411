package dev.drivekd.eval.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Saving XChart charts as PNG files. */
public final class Charts {

  private Charts() {}

  /** Saves {@code chart} as {@code file} (a {@code .png} name). */
  public static void savePng(Chart<?, ?> chart, Path file) throws IOException {
    String name = file.getFileName().toString();
    if (!name.endsWith(".png")) {
      throw new IllegalArgumentException("chart files end in .png, got " + name);
    }
    Path base = file.resolveSibling(name.substring(0, name.length() - ".png".length()));
    BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  /** Saves two charts side by side, on white, as one PNG {@code file}. */
  public static void saveSideBySide(Chart<?, ?> left, Chart<?, ?> right, Path file)
      throws IOException {
    BufferedImage a = BitmapEncoder.getBufferedImage(left);
    BufferedImage b = BitmapEncoder.getBufferedImage(right);
    BufferedImage both =
        new BufferedImage(
            a.getWidth() + b.getWidth(),
            Math.max(a.getHeight(), b.getHeight()),
            BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, both.getWidth(), both.getHeight());
    g.drawImage(a, 0, 0, null);
    g.drawImage(b, a.getWidth(), 0, null);
    g.dispose();
    ImageIO.write(both, "png", file.toFile());
  }
}
