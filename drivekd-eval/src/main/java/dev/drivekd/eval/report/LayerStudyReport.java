package dev.drivekd.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.eval.study.LayerStudyResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Writes a {@link LayerStudyResult} as a report folder: {@code layer-study.json}, {@code
 * layer-study.md} (the suggested layer per capability with its evidence) and four PNG charts, one
 * per study ({@code alignment.png}, {@code intra-group.png}, {@code dispersion.png}, {@code
 * margin.png}).
 */
public final class LayerStudyReport {

  /** The JSON file. */
  public static final String JSON_FILE = "layer-study.json";

  /** The Markdown file. */
  public static final String MARKDOWN_FILE = "layer-study.md";

  /** The chart files, one per study. */
  public static final List<String> CHARTS =
      List.of("alignment.png", "intra-group.png", "dispersion.png", "margin.png");

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LayerStudyReport() {}

  /** Writes the report to {@code dir}, which must not exist. */
  public static Path write(LayerStudyResult r, Path dir) {
    return ReportFolder.write(dir, contents(r));
  }

  /** What fills a layer-study folder (a section of an evaluation report, for one). */
  public static ReportFolder.Contents contents(LayerStudyResult r) {
    return tmp -> {
      Files.write(tmp.resolve(JSON_FILE), JSON.writeValueAsBytes(json(r)));
      Files.writeString(tmp.resolve(MARKDOWN_FILE), markdown(r), StandardCharsets.UTF_8);
      charts(r, tmp);
    };
  }

  static ObjectNode json(LayerStudyResult r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "drivekd-layer-study/1");
    ObjectNode prov = root.putObject("provenance");
    prov.put("created", Instant.now().toString());
    prov.put("drivekd", RunProvenance.drivekdVersion());
    root.put("model", r.model());
    root.put("depth", r.depth());
    root.put("temperature", r.temperature());
    root.put("forward_seconds", r.forwardSeconds());
    root.put("statistics_seconds", r.statisticsSeconds());
    ObjectNode samples = root.putObject("samples");
    r.samples().forEach((c, n) -> samples.put(c.key(), n));
    array(root, "adjacent_similarity", r.adjacentSimilarity());
    array(root, "vision_text_similarity", r.visionTextSimilarity());
    ObjectNode intra = root.putObject("intra_group_similarity");
    r.intraGroupSimilarity().forEach((c, v) -> array(intra, c.key(), v));
    array(root, "hidden_dispersion", r.hiddenDispersion());
    array(root, "attention_dispersion", r.attentionDispersion());
    ObjectNode margin = root.putObject("margin");
    r.margin().forEach((name, v) -> array(margin, name, v));
    ObjectNode suggestions = root.putObject("suggestions");
    r.suggestions()
        .forEach(
            (c, s) -> {
              ObjectNode n = suggestions.putObject(c.key());
              ArrayNode layers = n.putArray("layers");
              s.layers().forEach(layers::add);
              n.put("rule", s.rule());
              n.put("evidence", s.evidence());
            });
    return root;
  }

  private static void array(ObjectNode node, String key, double[] values) {
    ArrayNode a = node.putArray(key);
    for (double v : values) {
      if (Double.isNaN(v)) {
        a.addNull();
      } else {
        a.add(v);
      }
    }
  }

  static String markdown(LayerStudyResult r) {
    StringBuilder md = new StringBuilder();
    md.append("# Layer study of ").append(r.model()).append("\n\n");
    md.append(r.depth()).append(" decoder layers; samples per capability:");
    r.samples().forEach((c, n) -> md.append(' ').append(c.key()).append(' ').append(n));
    md.append(
        String.format(
            Locale.ROOT,
            ". Definitions: docs/evaluation.md (layer studies). Time: %.1f s in forward passes,"
                + " %.1f s copying layers to the host and computing the statistics (ND4J).\n\n",
            r.forwardSeconds(),
            r.statisticsSeconds()));
    md.append("| capability | suggested layers | rule | evidence |\n|---|---|---|---|\n");
    for (Map.Entry<Capability, LayerStudyResult.Suggestion> e : r.suggestions().entrySet()) {
      md.append("| ")
          .append(e.getKey().key())
          .append(" | ")
          .append(e.getValue().layers())
          .append(" | ")
          .append(e.getValue().rule())
          .append(" | ")
          .append(e.getValue().evidence())
          .append(" |\n");
    }
    md.append("\n| layer | adjacent | vision-text |");
    for (Capability c : Capability.values()) {
      md.append(" intra ").append(c.key()).append(" |");
    }
    md.append(" hidden dispersion | attention dispersion |\n|---|---|---|---|---|---|---|---|\n");
    for (int l = 0; l < r.depth(); l++) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %d | %.3f | %.3f |",
              l,
              r.adjacentSimilarity()[l],
              r.visionTextSimilarity()[l]));
      for (Capability c : Capability.values()) {
        md.append(String.format(Locale.ROOT, " %.3f |", r.intraGroupSimilarity().get(c)[l]));
      }
      md.append(
          String.format(
              Locale.ROOT,
              " %.3f | %.3f |\n",
              r.hiddenDispersion()[l],
              r.attentionDispersion()[l]));
    }
    md.append("\nGeneralised margin per answer-position bin (temperature ")
        .append(r.temperature())
        .append("):\n\n");
    r.margin()
        .forEach(
            (name, bins) -> {
              md.append("- ").append(name).append(": ");
              for (int b = 0; b < bins.length; b++) {
                md.append(b > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.3f", bins[b]));
              }
              md.append('\n');
            });
    md.append('\n');
    for (String chart : CHARTS) {
      md.append("![").append(chart).append("](").append(chart).append(")\n");
    }
    return md.toString();
  }

  private static void charts(LayerStudyResult r, Path dir) throws IOException {
    List<Double> layers = new ArrayList<>();
    for (int l = 0; l < r.depth(); l++) {
      layers.add((double) l);
    }
    XYChart a = chart("(a) layer-wise alignment", "layer", "cosine similarity");
    a.addSeries("adjacent layers", layers, list(r.adjacentSimilarity()));
    a.addSeries("vision-text", layers, list(r.visionTextSimilarity()));
    Charts.savePng(a, dir.resolve(CHARTS.get(0)));
    XYChart b =
        chart("(b) capability-wise intra-group similarity", "layer", "mean pairwise cosine");
    r.intraGroupSimilarity().forEach((c, v) -> b.addSeries(c.key(), layers, list(v)));
    Charts.savePng(b, dir.resolve(CHARTS.get(1)));
    XYChart c = chart("(c) layer-wise dispersion", "layer", "1 - cosine to the mean");
    c.addSeries("hidden states", layers, list(r.hiddenDispersion()));
    c.addSeries("attention maps", layers, list(r.attentionDispersion()));
    Charts.savePng(c, dir.resolve(CHARTS.get(2)));
    XYChart d =
        chart(
            "(d) generalised margin over the answer span",
            "answer position (bin)",
            "p(correct) - max p(other)");
    r.margin()
        .forEach(
            (name, bins) -> {
              List<Double> x = new ArrayList<>();
              for (int i = 0; i < bins.length; i++) {
                x.add((i + 0.5) / bins.length);
              }
              d.addSeries(name, x, list(bins));
            });
    Charts.savePng(d, dir.resolve(CHARTS.get(3)));
  }

  private static XYChart chart(String title, String x, String y) {
    XYChart chart =
        new XYChartBuilder()
            .width(720)
            .height(420)
            .title(title)
            .xAxisTitle(x)
            .yAxisTitle(y)
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
    return chart;
  }

  private static List<Double> list(double[] values) {
    List<Double> out = new ArrayList<>(values.length);
    for (double v : values) {
      out.add(Double.isNaN(v) ? null : v);
    }
    return out;
  }
}
