package dev.drivekd.eval.study;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import dev.drivekd.eval.report.AttentionHeatmap;
import dev.drivekd.eval.report.LayerStudyReport;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LayerStudyTest {

  @TempDir Path dir;

  private static INDArray m(double[][] rows) {
    return Nd4j.create(rows).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
  }

  private static INDArray t(double[][][] values) {
    return Nd4j.create(values).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
  }

  @Test
  void theStatisticsAreTheHandComputedOnes() {
    // two layers of two positions: layer 0 against itself scaled (cos 1), layer 1 against
    // (0,1),(0,-2): position 0 orthogonal, position 1 opposite -> mean -0.5
    INDArray a = t(new double[][][] {{{1, 0}, {0, 2}}, {{1, 0}, {0, 2}}});
    INDArray b = t(new double[][][] {{{3, 0}, {0, 6}}, {{0, 1}, {0, -2}}});
    assertArrayEquals(new double[] {1.0, -0.5}, SampleSignals.rowCosines(a, b), 1e-6);
    // weighted rows: the mean of positions 0 and 1 per layer
    assertArrayEquals(
        new float[] {0.5f, 1f, 0.5f, 1f},
        SampleSignals.weightedRows(a, SampleSignals.meanWeights(new int[] {0, 1}, 2))
            .reshape(4)
            .toFloatVector());
    assertArrayEquals(
        new double[] {1.0, 0.0},
        SampleSignals.rowwiseCosine(
            m(new double[][] {{1, 1}, {1, 0}}), m(new double[][] {{2, 2}, {0, 3}})),
        1e-6);
    // [[1,0],[1,0],[0,1]]: pairs 1, 0, 0 -> mean 1/3
    assertEquals(
        1.0 / 3,
        SampleSignals.meanPairwiseCosine(m(new double[][] {{1, 0}, {2, 0}, {0, 5}})),
        1e-6);
    assertEquals(0.0, SampleSignals.dispersion(m(new double[][] {{1, 2}, {2, 4}})), 1e-6);
    // (1,0) and (0,1) around their mean (0.5,0.5): 1 - cos 45 degrees
    assertEquals(
        1 - Math.sqrt(0.5), SampleSignals.dispersion(m(new double[][] {{1, 0}, {0, 1}})), 1e-6);
    // pooling a 4 x 4 map into 2 x 2 cells; a second map, all 1, pools to 1
    INDArray maps =
        Nd4j.concat(0, Nd4j.arange(16).reshape(1, 4, 4), Nd4j.ones(1, 4, 4))
            .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    assertArrayEquals(
        new float[] {2.5f, 4.5f, 10.5f, 12.5f, 1, 1, 1, 1},
        SampleSignals.pooledMaps(maps, 2).reshape(8).toFloatVector(),
        1e-6f);
    // fewer positions than bins: positions repeat
    assertArrayEquals(
        new float[] {1, 0, 1, 0, 0, 1, 0, 1},
        SampleSignals.averaging(4, 2).reshape(8).toFloatVector());
  }

  @Test
  void theTextToVisionBlockKeepsTextRowsAfterTheFirstImageAndImageColumns() {
    // positions: text, image, image, text, text
    TokenLayout layout =
        TokenLayout.of(
            new boolean[][] {{false, true, true, false, false}},
            new boolean[][] {{false, false, false, false, true}},
            new int[] {5});
    INDArray maps =
        Nd4j.arange(25).reshape(1, 5, 5).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    // block rows 3, 4 and columns 1, 2: [[16, 17], [21, 22]]; pooled 1 x 2: column means
    assertArrayEquals(
        new float[] {18.5f, 19.5f},
        SampleSignals.pooledTextToVision(maps, layout, 1, 2).reshape(2).toFloatVector(),
        1e-5f);
    assertArrayEquals(
        new float[] {16, 17, 21, 22},
        SampleSignals.pooledTextToVision(maps, layout, 2, 2).reshape(4).toFloatVector(),
        1e-5f);
    TokenLayout textOnly =
        TokenLayout.of(
            new boolean[][] {{false, false}}, new boolean[][] {{false, true}}, new int[] {2});
    assertNull(SampleSignals.pooledTextToVision(Nd4j.zeros(1, 2, 2), textOnly, 1, 1));
  }

  @Test
  void suggestionsFollowTheirRules() {
    double[] adjacent = {0.6, 0.9, 0.5, 0.95, 0.9, 0.9, 0.9, 0.4};
    double[] visionText = {0.3, 0.3, 0.4, 0.5, 0.6, 0.8, 0.7, 0.9};
    Map<Capability, double[]> intra = new EnumMap<>(Capability.class);
    intra.put(Capability.PERCEPTION, new double[8]);
    intra.put(Capability.PLANNING, new double[8]);
    intra.put(Capability.REASONING, new double[] {0.9, 0.97, 0.99, 1.0, 0.985, 0.95, 0.99, 1.0});
    var s = LayerStudy.suggest(8, adjacent, visionText, intra);
    // first half (0-3): lowest adjacent similarity at layer 2
    assertEquals(List.of(2), s.get(Capability.PERCEPTION).layers());
    // intermediate 1..5, peak 1.0 at 3, plateau >= 0.98: 2, 3, 4
    assertEquals(List.of(2, 3, 4), s.get(Capability.REASONING).layers());
    // second half without the last (4-6): highest vision-text at 5
    assertEquals(List.of(5), s.get(Capability.PLANNING).layers());
    assertTrue(s.get(Capability.PLANNING).evidence().contains("0.800 at layer 5"));
  }

  @Test
  void studiesATinyModelWithinTheRangesTheDefinitionsAllow() throws Exception {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 2)) {
      LayerStudyResult r =
          new LayerStudy(model, tiny.encoder(model.card()))
              .run(tiny.dataset.samples(), Map.of("general", tiny.dataset.samples().subList(0, 2)));
      int depth = model.card().depth();
      assertEquals(depth, r.adjacentSimilarity().length);
      for (int l = 0; l < depth; l++) {
        assertTrue(Math.abs(r.adjacentSimilarity()[l]) <= 1 + 1e-6);
        assertTrue(Math.abs(r.visionTextSimilarity()[l]) <= 1 + 1e-6);
        assertTrue(r.hiddenDispersion()[l] >= -1e-6 && r.hiddenDispersion()[l] <= 2);
        assertTrue(r.attentionDispersion()[l] >= -1e-6 && r.attentionDispersion()[l] <= 2);
        for (double[] intra : r.intraGroupSimilarity().values()) {
          // attention is non-negative, so pooled blocks are too: cosines in [0, 1]
          assertTrue(intra[l] >= -1e-6 && intra[l] <= 1 + 1e-6, "layer " + l);
        }
      }
      assertEquals(List.of("driving", "general"), List.copyOf(r.margin().keySet()));
      for (double[] bins : r.margin().values()) {
        assertEquals(10, bins.length);
        for (double b : bins) {
          assertTrue(Double.isNaN(b) || (b >= -1 && b <= 1), "margin " + b);
        }
      }
      assertEquals(2, r.samples().get(Capability.PLANNING));
      for (Capability c : Capability.values()) {
        assertTrue(!r.suggestions().get(c).layers().isEmpty(), c.key());
      }

      Path report = LayerStudyReport.write(r, dir.resolve("study"));
      var json =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(report.resolve(LayerStudyReport.JSON_FILE).toFile());
      assertEquals(depth, json.get("adjacent_similarity").size());
      assertEquals(
          r.suggestions().get(Capability.PLANNING).layers().get(0),
          json.at("/suggestions/planning/layers/0").asInt());
      for (String chart : LayerStudyReport.CHARTS) {
        assertTrue(javax.imageio.ImageIO.read(report.resolve(chart).toFile()) != null, chart);
      }
    }
  }

  @Test
  void theHeatMapShowsTheTextToVisionBlockOfBothModels() throws Exception {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel student = tiny.model("student-tiny", 2);
        InternVlModel teacher = tiny.teacher(3)) {
      var sample = tiny.dataset.get(0);
      float[][] s = AttentionHeatmap.block(student, tiny.encoder(student.card()), sample, 0);
      float[][] t = AttentionHeatmap.block(teacher, tiny.encoder(teacher.card()), sample, -2);
      int vision = student.card().tokensPerImage() * sample.images().size();
      assertEquals(vision, s[0].length);
      assertEquals(s.length, t.length, "same prompt, same text rows");
      for (float[] row : s) {
        double sum = 0;
        for (float v : row) {
          assertTrue(v >= 0);
          sum += v;
        }
        assertTrue(sum <= 1 + 1e-5, "a block row is part of a softmax row");
      }
      Path png = dir.resolve("heat.png");
      AttentionHeatmap.write("student", s, "teacher", t, png);
      var image = javax.imageio.ImageIO.read(png.toFile());
      assertEquals(1040, image.getWidth());
    }
  }

  @Test
  void aCapabilityWithOneSampleIsRefused() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 2)) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new LayerStudy(model, tiny.encoder(model.card()))
                      .run(tiny.dataset.samples().subList(0, 3), Map.of()));
      assertTrue(e.getMessage().contains("at least two samples per capability"), e.getMessage());
    }
  }
}
