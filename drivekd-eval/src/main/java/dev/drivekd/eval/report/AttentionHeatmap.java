package dev.drivekd.eval.report;

import ai.djl.ndarray.NDManager;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

/**
 * The text-to-vision attention of one sample, student beside teacher: for each model the
 * head-averaged map of one layer, rows the text positions after the first image, columns the vision
 * positions, drawn as two XChart heat maps side by side in one PNG on a shared colour scale.
 */
public final class AttentionHeatmap {

  private AttentionHeatmap() {}

  /**
   * A model's text-to-vision block of one layer on one sample: {@code [text rows][vision columns]}.
   *
   * @param layer the layer (negative counts from the end)
   * @throws IllegalArgumentException when the sample has no image or no text after it
   */
  public static float[][] block(
      VisionLanguageModel model, BatchEncoder encoder, DrivingSample sample, int layer) {
    try (NDManager manager = NDManager.newBaseManager(model.device())) {
      VlmBatch batch =
          encoder.encodeSamples(manager, List.of(sample), BatchEncoder.PromptMode.TRAINING);
      TokenLayout layout = batch.layout();
      int resolved = ForwardRequest.attentionOf(layer).resolvedLayers(model.card().depth()).first();
      float[] map =
          model
              .forward(batch, ForwardRequest.attentionOf(resolved), false)
              .headAveraged()
              .get(resolved)
              .toFloatArray();
      int length = layout.length(0);
      int first =
          IntStream.range(0, length).filter(i -> layout.isImage(0, i)).findFirst().orElse(-1);
      int[] rows =
          first < 0
              ? new int[0]
              : IntStream.range(first, length).filter(i -> layout.isText(0, i)).toArray();
      int[] cols = IntStream.range(0, length).filter(i -> layout.isImage(0, i)).toArray();
      if (rows.length == 0 || cols.length == 0) {
        throw new IllegalArgumentException(
            "sample "
                + sample.recordIndex()
                + " has no text after an image: no text-to-vision block");
      }
      float[][] out = new float[rows.length][cols.length];
      for (int i = 0; i < rows.length; i++) {
        for (int j = 0; j < cols.length; j++) {
          out[i][j] = map[rows[i] * length + cols[j]];
        }
      }
      return out;
    }
  }

  /**
   * Writes the two blocks side by side as one PNG.
   *
   * @param file a {@code .png} path
   */
  public static void write(
      String studentName, float[][] student, String teacherName, float[][] teacher, Path file)
      throws IOException {
    // one hot cell would flatten the rest: the scale ends at the 99th percentile of both blocks
    double max = percentile99(student, teacher);
    Charts.saveSideBySide(chart(studentName, student, max), chart(teacherName, teacher, max), file);
  }

  private static HeatMapChart chart(String title, float[][] block, double max) {
    HeatMapChart chart =
        new HeatMapChartBuilder()
            .width(520)
            .height(480)
            .title(title + ": text -> vision")
            .xAxisTitle("vision position")
            .yAxisTitle("text position")
            .build();
    chart.getStyler().setShowValue(false);
    chart.getStyler().setMin(0.0);
    chart.getStyler().setMax(max);
    chart.getStyler().setPlotContentSize(1.0);
    List<Integer> x = new ArrayList<>();
    for (int j = 0; j < block[0].length; j++) {
      x.add(j);
    }
    List<Integer> y = new ArrayList<>();
    for (int i = 0; i < block.length; i++) {
      y.add(i);
    }
    List<Number[]> cells = new ArrayList<>();
    for (int i = 0; i < block.length; i++) {
      for (int j = 0; j < block[0].length; j++) {
        cells.add(new Number[] {j, i, block[i][j]});
      }
    }
    chart.addSeries("attention", x, y, cells);
    return chart;
  }

  static double percentile99(float[][] a, float[][] b) {
    float[] all = new float[a.length * a[0].length + b.length * b[0].length];
    int k = 0;
    for (float[][] block : List.of(a, b)) {
      for (float[] row : block) {
        for (float v : row) {
          all[k++] = v;
        }
      }
    }
    java.util.Arrays.sort(all);
    double p = all[Math.min(all.length - 1, (int) Math.ceil(0.99 * all.length) - 1)];
    return p > 0 ? p : 1e-9;
  }
}
