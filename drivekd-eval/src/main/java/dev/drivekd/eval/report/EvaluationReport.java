package dev.drivekd.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.eval.Evaluation;
import dev.drivekd.eval.answer.AnswerRecord;
import dev.drivekd.eval.score.Interval;
import dev.drivekd.eval.score.Metric;
import dev.drivekd.eval.score.Scoreboard;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Writes an {@link Evaluation.Result} as a report folder: {@code report.json} (every score with its
 * interval, judge outcomes, answer statistics and provenance), {@code report.md} (the same as
 * tables) and one PNG chart per metric ({@code <metric>.png}: per-capability bars per model, the
 * whiskers the wider side of the 95% interval). The folder is written at once ({@link
 * ReportFolder}).
 */
public final class EvaluationReport {

  /** The JSON file. */
  public static final String JSON_FILE = "report.json";

  /** The Markdown file. */
  public static final String MARKDOWN_FILE = "report.md";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private EvaluationReport() {}

  /**
   * Writes the report to {@code dir}, which must not exist.
   *
   * @return the folder
   */
  public static Path write(Evaluation.Result result, Path dir) {
    return write(result, dir, Map.of());
  }

  /**
   * Writes the report with further sections (a layer study, a heat map), each written by its {@link
   * ReportFolder.Contents} into a subfolder of the same name and linked from {@code report.md}; the
   * whole folder appears at once.
   *
   * @param sections subfolder name to what fills it, in link order
   * @return the folder
   */
  public static Path write(
      Evaluation.Result result, Path dir, Map<String, ReportFolder.Contents> sections) {
    return ReportFolder.write(
        dir,
        tmp -> {
          Files.write(tmp.resolve(JSON_FILE), JSON.writeValueAsBytes(json(result)));
          StringBuilder md = new StringBuilder(markdown(result));
          if (!sections.isEmpty()) {
            md.append("\n## More\n\n");
          }
          for (Map.Entry<String, ReportFolder.Contents> e : sections.entrySet()) {
            Path sub = Files.createDirectory(tmp.resolve(e.getKey()));
            e.getValue().writeTo(sub);
            md.append("- [").append(e.getKey()).append("](").append(e.getKey()).append("/)\n");
          }
          Files.writeString(tmp.resolve(MARKDOWN_FILE), md.toString(), StandardCharsets.UTF_8);
          for (Metric m : metrics(result)) {
            chart(result, m, tmp.resolve(chartFile(m)));
          }
        });
  }

  /** The chart file of a metric. */
  public static String chartFile(Metric metric) {
    return metric.key() + ".png";
  }

  /** The metrics some model has a score for, in {@link Metric} order. */
  static List<Metric> metrics(Evaluation.Result result) {
    List<Metric> out = new ArrayList<>();
    for (Metric m : Metric.values()) {
      boolean any =
          result.models().stream()
              .anyMatch(r -> r.scores().scores().getOrDefault(m, Map.of()).size() > 0);
      if (any) {
        out.add(m);
      }
    }
    return out;
  }

  private static List<String> columns() {
    List<String> keys = new ArrayList<>();
    for (Capability c : Capability.values()) {
      keys.add(c.key());
    }
    keys.add(Scoreboard.OVERALL);
    return keys;
  }

  static ObjectNode json(Evaluation.Result result) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "drivekd-eval-report/1");
    ObjectNode prov = root.putObject("provenance");
    prov.put("created", Instant.now().toString());
    RunProvenance.currentVersions().forEach(prov.putObject("versions")::put);
    ObjectNode data = prov.putObject("data");
    data.put("name", result.dataName());
    data.put("fingerprint", result.dataFingerprint());
    data.put("items", result.items());
    prov.put("judge", result.judge().orElse(null));
    prov.putObject("bootstrap")
        .put("resamples", result.bootstrap().resamples())
        .put("seed", result.bootstrap().seed())
        .put("level", 0.95);
    prov.put("seconds", result.seconds());
    ArrayNode models = root.putArray("models");
    for (Evaluation.ModelResult r : result.models()) {
      ObjectNode m = models.addObject();
      m.put("model", r.model());
      m.put("model_fingerprint", r.answers().header().modelFingerprint());
      m.put("answers_reused", r.answers().reused());
      m.put("answers_generated", r.answers().generated());
      List<AnswerRecord> answers = r.answers().answers();
      m.put(
          "mean_new_tokens",
          answers.stream().mapToInt(AnswerRecord::newTokens).average().orElse(0));
      m.put("answers_cut_at_limit", answers.stream().filter(a -> !a.stopped()).count());
      ObjectNode scores = m.putObject("scores");
      r.scores()
          .scores()
          .forEach(
              (metric, byKey) -> {
                ObjectNode s = scores.putObject(metric.key());
                byKey.forEach(
                    (key, iv) ->
                        s.putObject(key)
                            .put("value", iv.value())
                            .put("low", iv.low())
                            .put("high", iv.high())
                            .put("n", iv.n()));
              });
      if (!r.scores().judgeCounts().isEmpty()) {
        ObjectNode jc = m.putObject("judge_counts");
        r.scores()
            .judgeCounts()
            .forEach(
                (key, c) ->
                    jc.putObject(key)
                        .put("asked", c.asked())
                        .put("scored", c.scored())
                        .put("unparseable", c.unparseable())
                        .put("failed", c.failed()));
      }
    }
    return root;
  }

  static String markdown(Evaluation.Result result) {
    StringBuilder md = new StringBuilder();
    md.append("# Evaluation of ")
        .append(result.models().size())
        .append(result.models().size() == 1 ? " model" : " models")
        .append(" on ")
        .append(result.dataName())
        .append("\n\n");
    md.append(result.items())
        .append(" items (data fingerprint `")
        .append(shortHash(result.dataFingerprint()))
        .append("`); judge: ")
        .append(result.judge().orElse("none"))
        .append("; 95% intervals from ")
        .append(result.bootstrap().resamples())
        .append(" bootstrap resamples (seed ")
        .append(result.bootstrap().seed())
        .append("). Overall is the mean of the three capabilities, as the paper's Avg.\n\n");
    md.append("| model | fingerprint | answers reused / generated | mean new tokens |\n");
    md.append("|---|---|---|---|\n");
    for (Evaluation.ModelResult r : result.models()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | `%s` | %d / %d | %.1f |\n",
              r.model(),
              shortHash(r.answers().header().modelFingerprint()),
              r.answers().reused(),
              r.answers().generated(),
              r.answers().answers().stream()
                  .mapToInt(AnswerRecord::newTokens)
                  .average()
                  .orElse(0)));
    }
    for (Metric metric : metrics(result)) {
      md.append("\n## ").append(metric.label()).append("\n\n");
      md.append("| model |");
      columns().forEach(k -> md.append(' ').append(k).append(" |"));
      md.append("\n|---|");
      columns().forEach(k -> md.append("---|"));
      md.append('\n');
      for (Evaluation.ModelResult r : result.models()) {
        md.append("| ").append(r.model()).append(" |");
        for (String key : columns()) {
          md.append(' ').append(cell(r.scores().get(metric, key), metric)).append(" |");
        }
        md.append('\n');
      }
      if (metric == Metric.JUDGE_SCORE) {
        md.append("\nJudge outcomes (asked / scored / unparseable / failed):\n\n");
        for (Evaluation.ModelResult r : result.models()) {
          Scoreboard.JudgeCounts c = r.scores().judgeCounts().get(Scoreboard.OVERALL);
          md.append(
              String.format(
                  Locale.ROOT,
                  "- %s: %d / %d / %d / %d\n",
                  r.model(),
                  c.asked(),
                  c.scored(),
                  c.unparseable(),
                  c.failed()));
        }
      }
      md.append("\n![").append(metric.label()).append("](").append(chartFile(metric)).append(")\n");
    }
    return md.toString();
  }

  private static String cell(Interval iv, Metric metric) {
    if (!iv.present()) {
      return "-";
    }
    String f = metric == Metric.BLEU4 || metric == Metric.ROUGE_L ? "%.3f" : "%.1f";
    return String.format(
        Locale.ROOT, f + " [" + f + ", " + f + "] (n=%d)", iv.value(), iv.low(), iv.high(), iv.n());
  }

  private static String shortHash(String hash) {
    return hash == null ? "-" : hash.substring(0, Math.min(12, hash.length()));
  }

  private static void chart(Evaluation.Result result, Metric metric, Path file) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(860)
            .height(420)
            .title(metric.label() + " per capability (whiskers: wider side of the 95% interval)")
            .xAxisTitle("capability")
            .yAxisTitle(metric.label())
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setYAxisMin(0.0);
    for (Evaluation.ModelResult r : result.models()) {
      List<String> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      List<Double> err = new ArrayList<>();
      for (String key : columns()) {
        Interval iv = r.scores().get(metric, key);
        x.add(key);
        y.add(iv.present() ? iv.value() : 0.0);
        err.add(iv.present() ? Math.max(iv.high() - iv.value(), iv.value() - iv.low()) : 0.0);
      }
      chart.addSeries(r.model(), x, y, err);
    }
    Charts.savePng(chart, file);
  }
}
