package dev.drivekd.eval.report;

import java.io.IOException;
import java.nio.file.Path;
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
}
