package dev.drivekd.examples.demo;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.train.TrainingSummary;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.eval.report.Charts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The demo's training curves as a PNG: on the left the answer cross-entropy of both students, on
 * the right the Drive-KD student's three distillation losses (log scale), each a moving mean over
 * one epoch of micro-steps; two XChart line charts side by side.
 */
final class LossPlot {

  private static final int PANEL_WIDTH = 560;
  private static final int PANEL_HEIGHT = 460;

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
        kd.put(
            e.getKey().name().toLowerCase(Locale.ROOT) + " (" + e.getValue() + ")",
            smooth(values, window));
      }
    }
    Charts.saveSideBySide(
        chart("answer cross-entropy", "loss", ce, false),
        chart("Drive-KD distillation losses (log scale)", "MSE", kd, true),
        png);
  }

  private static XYChart chart(
      String title, String yTitle, Map<String, double[]> curves, boolean logY) {
    XYChart chart =
        new XYChartBuilder()
            .width(PANEL_WIDTH)
            .height(PANEL_HEIGHT)
            .title(title)
            .xAxisTitle("micro-step")
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setYAxisLogarithmic(logY);
    for (Map.Entry<String, double[]> e : curves.entrySet()) {
      List<Double> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      double[] v = e.getValue();
      for (int i = 0; i < v.length; i++) {
        // a log axis takes no zero or negative value; a NaN is a gap
        if (Double.isFinite(v[i]) && (!logY || v[i] > 0)) {
          x.add((double) i + 1);
          y.add(v[i]);
        }
      }
      if (!x.isEmpty()) {
        chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.NONE);
      }
    }
    return chart;
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
}
