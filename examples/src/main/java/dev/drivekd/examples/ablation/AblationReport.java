package dev.drivekd.examples.ablation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.data.Capability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * The held-out ablation's report: {@code report.json} (the figures, one row per variant and seed,
 * and the settings), {@code report.md} (the Table-3-like summary: mean and spread over seeds, and
 * each variant's paired difference to CE only) and {@code accuracy.png} (mean accuracy per variant
 * and capability, with the seeds' spread).
 */
public final class AblationReport {

  /** The figures' file name. */
  public static final String JSON_FILE = "report.json";

  /** The summary's file name. */
  public static final String MARKDOWN_FILE = "report.md";

  /** The chart's file name. */
  public static final String CHART_FILE = "accuracy.png";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AblationReport() {}

  /** Mean and sample standard deviation of some values (std 0 for one value). */
  public record Spread(double mean, double std, int n) {

    /** The spread of {@code values}. */
    public static Spread of(List<Double> values) {
      double sum = 0;
      for (double v : values) {
        sum += v;
      }
      double mean = sum / values.size();
      double squares = 0;
      for (double v : values) {
        squares += (v - mean) * (v - mean);
      }
      double std = values.size() > 1 ? Math.sqrt(squares / (values.size() - 1)) : 0;
      return new Spread(mean, std, values.size());
    }

    String percent() {
      return String.format(Locale.ROOT, "%.1f ± %.1f", 100 * mean, 100 * std);
    }
  }

  /** The figures as one JSON object: {@code seconds}, {@code seeds}, {@code rows}, settings. */
  public static Map<String, Object> figures(
      HeldOutAblation.Result result, HeldOutAblation.Options options) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("seconds", result.seconds());
    f.put("seeds", options.seeds());
    List<Map<String, Object>> rows = new ArrayList<>();
    for (HeldOutAblation.Row r : result.rows()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("variant", r.variant());
      row.put("seed", r.seed());
      row.put("accuracy_overall", r.accuracyOverall());
      r.accuracy().forEach((k, v) -> row.put("accuracy_" + k, v));
      r.answerCe().forEach((k, v) -> row.put("answer_ce_" + k, v));
      r.attentionGap().forEach((k, v) -> row.put("attention_gap_" + k, v));
      row.put("train_seconds", r.trainSeconds());
      row.put("optimizer_steps", r.optimizerSteps());
      row.put("skipped_updates", r.skippedUpdates());
      if (r.reuse().reusedMicroSteps() > 0) {
        row.put("combined_micro_steps", r.reuse().combinedMicroSteps());
        row.put("reused_micro_steps", r.reuse().reusedMicroSteps());
        row.put("fit_cosine_mean", r.reuse().meanFitCosine());
        row.put("fit_cosine_min", r.reuse().minFitCosine());
        row.put("drift_cosine_mean", r.reuse().meanDriftCosine());
        row.put("drift_cosine_min", r.reuse().minDriftCosine());
      }
      rows.add(row);
    }
    f.put("rows", rows);
    f.put("test_questions", result.questions());
    f.put("labelled_questions", result.labelled());
    f.put("teacher_accuracy", result.teacherAccuracy());
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("generator", options.config().fingerprint());
    settings.put("labelled_scenes", options.labelledScenes());
    settings.put("test_scenes", options.testScenes());
    settings.put("student", options.studentPreset());
    settings.put("epochs", options.epochs());
    settings.put("micro_batch", options.microBatch());
    settings.put("learning_rate", options.learningRate());
    settings.put("attention_weight", options.attentionWeight());
    settings.put("teachers", options.teachers().toAbsolutePath().toString());
    f.put("settings", settings);
    return f;
  }

  /** Per variant (in run order), the spread of {@code metric} over seeds. */
  static Map<String, Spread> spread(List<HeldOutAblation.Row> rows, String metric) {
    Map<String, List<Double>> values = new LinkedHashMap<>();
    for (HeldOutAblation.Row r : rows) {
      values.computeIfAbsent(r.variant(), k -> new ArrayList<>()).add(metric(r, metric));
    }
    Map<String, Spread> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, Spread.of(v)));
    return out;
  }

  /**
   * Per variant, the spread over seeds of its overall accuracy minus CE only's of the same seed
   * (same initialisation, labels and order: the paired difference).
   */
  static Map<String, Spread> pairedToCeOnly(List<HeldOutAblation.Row> rows) {
    Map<Long, Double> base = new LinkedHashMap<>();
    for (HeldOutAblation.Row r : rows) {
      if (r.variant().equals(AblationVariant.CE_ONLY.key())) {
        base.put(r.seed(), r.accuracyOverall());
      }
    }
    Map<String, List<Double>> diffs = new LinkedHashMap<>();
    for (HeldOutAblation.Row r : rows) {
      Double b = base.get(r.seed());
      if (b != null) {
        diffs.computeIfAbsent(r.variant(), k -> new ArrayList<>()).add(r.accuracyOverall() - b);
      }
    }
    Map<String, Spread> out = new LinkedHashMap<>();
    diffs.forEach((k, v) -> out.put(k, Spread.of(v)));
    return out;
  }

  private static double metric(HeldOutAblation.Row r, String metric) {
    if (metric.equals("overall")) {
      return r.accuracyOverall();
    }
    return r.accuracy().get(metric);
  }

  /** The summary table (held-out accuracy in %, mean ± std over seeds). */
  public static String table(HeldOutAblation.Result result) {
    List<String> metrics = new ArrayList<>();
    metrics.add("overall");
    for (Capability c : Capability.values()) {
      metrics.add(c.key());
    }
    Map<String, Map<String, Spread>> byMetric = new LinkedHashMap<>();
    for (String m : metrics) {
      byMetric.put(m, spread(result.rows(), m));
    }
    Map<String, Spread> paired = pairedToCeOnly(result.rows());
    StringBuilder sb = new StringBuilder();
    sb.append("| variant | overall | perception | reasoning | planning | overall - CE only |\n");
    sb.append("|---|---|---|---|---|---|\n");
    for (String variant : byMetric.get("overall").keySet()) {
      sb.append("| ").append(variant);
      for (String m : metrics) {
        sb.append(" | ").append(byMetric.get(m).get(variant).percent());
      }
      Spread d = paired.get(variant);
      sb.append(" | ")
          .append(
              d == null || variant.equals(AblationVariant.CE_ONLY.key())
                  ? "-"
                  : String.format(Locale.ROOT, "%+.1f ± %.1f", 100 * d.mean(), 100 * d.std()))
          .append(" |\n");
    }
    return sb.toString();
  }

  /**
   * Per variant: mean training seconds over seeds and, for amortised variants, the share of
   * micro-steps that reused multipliers, the fit and drift cosines; empty when no variant reused.
   */
  static String amortisedTable(HeldOutAblation.Result result) {
    Map<String, List<HeldOutAblation.Row>> byVariant = new LinkedHashMap<>();
    boolean any = false;
    for (HeldOutAblation.Row r : result.rows()) {
      byVariant.computeIfAbsent(r.variant(), k -> new ArrayList<>()).add(r);
      any |= r.reuse().reusedMicroSteps() > 0;
    }
    if (!any) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        "| variant | train s | reused micro-steps | fit cos | drift cos mean | drift cos min |\n");
    sb.append("|---|---|---|---|---|---|\n");
    for (Map.Entry<String, List<HeldOutAblation.Row>> e : byVariant.entrySet()) {
      List<HeldOutAblation.Row> rows = e.getValue();
      double seconds =
          rows.stream().mapToDouble(HeldOutAblation.Row::trainSeconds).average().orElse(Double.NaN);
      sb.append(String.format(Locale.ROOT, "| %s | %.1f", e.getKey(), seconds));
      if (rows.get(0).reuse().reusedMicroSteps() == 0) {
        sb.append(" | - | - | - | - |\n");
        continue;
      }
      double reused = 0;
      double total = 0;
      double fit = 0;
      double drift = 0;
      double driftMin = Double.POSITIVE_INFINITY;
      for (HeldOutAblation.Row r : rows) {
        reused += r.reuse().reusedMicroSteps();
        total += r.reuse().reusedMicroSteps() + r.reuse().combinedMicroSteps();
        fit += r.reuse().meanFitCosine() / rows.size();
        drift += r.reuse().meanDriftCosine() / rows.size();
        driftMin = Math.min(driftMin, r.reuse().minDriftCosine());
      }
      sb.append(
          String.format(
              Locale.ROOT,
              " | %.0f %% | %.4f | %.4f | %.4f |\n",
              100 * reused / total,
              fit,
              drift,
              driftMin));
    }
    return sb.toString();
  }

  /** Writes {@code report.json}, {@code report.md} and {@code accuracy.png} into {@code dir}. */
  public static void write(Path dir, HeldOutAblation.Result result, HeldOutAblation.Options options)
      throws IOException {
    Files.createDirectories(dir);
    JSON.writeValue(dir.resolve(JSON_FILE).toFile(), figures(result, options));
    StringBuilder md = new StringBuilder();
    md.append("# Held-out ablation on SynthDrive\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Students `%s`, %d labelled questions (%d scenes), %d epochs of micro-batches of %d,"
                + " peak rate %s, attention weight %s; seeds %s; scored on %s held-out"
                + " multiple-choice questions (%d test scenes). Generator `%s`. Run time %.0f s.%n%n",
            options.studentPreset(),
            result.labelled(),
            options.labelledScenes(),
            options.epochs(),
            options.microBatch(),
            options.learningRate(),
            options.attentionWeight(),
            options.seeds(),
            result.questions(),
            options.testScenes(),
            options.config().fingerprint(),
            result.seconds()));
    md.append("Teachers' held-out accuracy on their own capability's questions (%): ");
    List<String> parts = new ArrayList<>();
    result
        .teacherAccuracy()
        .forEach((k, v) -> parts.add(String.format(Locale.ROOT, "%s %.1f", k, 100 * v)));
    md.append(String.join(", ", parts)).append(".\n\n");
    md.append("Held-out multiple-choice accuracy (%), mean ± std over seeds:\n\n");
    md.append(table(result)).append('\n');
    String amortised = amortisedTable(result);
    if (!amortised.isEmpty()) {
      md.append(
          "Amortised AGP (docs/training.md): training time and how close the reused loss"
              + " multipliers came to a fresh combine (cosines of the combined gradients, mean over"
              + " seeds of each run's mean; min over seeds of each run's min):\n\n");
      md.append(amortised).append('\n');
    }
    md.append("![accuracy per variant](").append(CHART_FILE).append(")\n");
    Files.writeString(dir.resolve(MARKDOWN_FILE), md.toString(), StandardCharsets.UTF_8);
    chart(result, dir.resolve(CHART_FILE));
  }

  private static void chart(HeldOutAblation.Result result, Path file) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(420)
            .title("Held-out accuracy per variant (mean over seeds, bars: std)")
            .xAxisTitle("variant")
            .yAxisTitle("accuracy (%)")
            .build();
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
    List<String> metrics = new ArrayList<>();
    metrics.add("overall");
    for (Capability c : Capability.values()) {
      metrics.add(c.key());
    }
    for (String m : metrics) {
      Map<String, Spread> s = spread(result.rows(), m);
      List<String> x = new ArrayList<>(s.keySet());
      List<Double> y = new ArrayList<>();
      List<Double> err = new ArrayList<>();
      for (String v : x) {
        y.add(100 * s.get(v).mean());
        err.add(100 * s.get(v).std());
      }
      chart.addSeries(m, x, y, err);
    }
    String name = file.getFileName().toString();
    Path base = file.resolveSibling(name.substring(0, name.length() - ".png".length()));
    BitmapEncoder.saveBitmap(chart, base.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
