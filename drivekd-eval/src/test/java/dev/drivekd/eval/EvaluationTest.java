package dev.drivekd.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.eval.drivebench.DriveBenchReader;
import dev.drivekd.eval.judge.Judge;
import dev.drivekd.eval.judge.JudgePrompt;
import dev.drivekd.eval.judge.JudgeTask;
import dev.drivekd.eval.judge.JudgeUnavailableException;
import dev.drivekd.eval.judge.JudgeVerdict;
import dev.drivekd.eval.report.EvaluationReport;
import dev.drivekd.eval.score.Bootstrap;
import dev.drivekd.eval.score.Metric;
import dev.drivekd.eval.score.Scoreboard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole road on DriveBench-format data: answers, judge, scores, report. */
class EvaluationTest {

  @TempDir Path dir;

  /** Scores a prompt by its task: 70 for planning, 40 otherwise; every fifth reply unparseable. */
  private static final class RubricJudge implements Judge {
    final AtomicInteger asked = new AtomicInteger();
    final List<JudgeTask> tasks = new ArrayList<>();

    @Override
    public List<JudgeVerdict> judge(List<JudgePrompt> prompts) {
      List<JudgeVerdict> out = new ArrayList<>();
      for (JudgePrompt p : prompts) {
        int n = asked.incrementAndGet();
        tasks.add(p.task());
        int score = p.task() == JudgeTask.PLANNING_VQA ? 70 : 40;
        out.add(
            n % 5 == 0
                ? new JudgeVerdict(
                    JudgeVerdict.Status.UNPARSEABLE, OptionalInt.empty(), "?", "no score", false, 1)
                : new JudgeVerdict(
                    JudgeVerdict.Status.SCORED,
                    OptionalInt.of(score),
                    "Total Score: " + score,
                    "",
                    false,
                    1));
      }
      return out;
    }

    @Override
    public String name() {
      return "rubric-stub";
    }
  }

  private static Path fixture() throws Exception {
    return Path.of(EvaluationTest.class.getResource("/drivebench/drivebench-fixture.json").toURI());
  }

  private static InternVlModel model(WordTokenizer tokenizer, String preset, long seed) {
    return InternVlModel.create(
        InternVlConfig.preset(preset).withTokenizer(tokenizer.identity()), Device.cpu(), seed);
  }

  @Test
  void scoresTwoModelsOnDriveBenchDataAndWritesTheReport() throws Exception {
    Path file = fixture();
    List<EvalItem> items =
        new DriveBenchReader(
                file.getParent(),
                ImageCheckPolicy.REQUIRE_READABLE,
                file.resolveSibling("visual_description.json"))
            .read(file);
    DrivingDataset asDataset =
        new DrivingDataset(file, items.stream().map(EvalItem::sample).toList(), List.of());
    WordTokenizer tokenizer = WordTokenizer.builder().addDataset(asDataset).build();
    RubricJudge judge = new RubricJudge();
    try (InternVlModel student = model(tokenizer, "student-tiny", 1);
        InternVlModel teacher = model(tokenizer, "teacher-small", 2)) {
      BatchEncoder encoder =
          BatchEncoder.builder()
              .setTokenizer(tokenizer)
              .setImagePipeline(ImagePipeline.imageNet(student.card().imageSize()))
              .setModel(student.card())
              .build();
      Evaluation.Result result =
          Evaluation.builder(items, dir.resolve("answers"))
              .addModel(GreedyAnswers.of(student, encoder, 8))
              .addModel(GreedyAnswers.of(teacher, encoder, 8))
              .optJudge(judge)
              .optBootstrap(new Bootstrap(300, 5))
              .optDataName(file.getFileName().toString())
              .build()
              .run();

      // the yes/no question is not judged: 7 prompts per model
      assertEquals(14, judge.asked.get());
      assertFalse(judge.tasks.contains(null));
      assertEquals(2, result.models().size());
      Scoreboard s = result.models().get(0).scores();
      assertEquals(new Scoreboard.JudgeCounts(7, 6, 1, 0), s.judgeCounts().get(Scoreboard.OVERALL));
      // planning: both planning prompts (the 5th and 7th asked) -> the 5th is unparseable, 70
      // remains
      assertEquals(70, s.get(Metric.JUDGE_SCORE, "planning").value(), 1e-12);
      assertEquals(40, s.get(Metric.JUDGE_SCORE, "perception").value(), 1e-12);
      assertEquals(
          (40 + 40 + 70) / 3.0, s.get(Metric.JUDGE_SCORE, Scoreboard.OVERALL).value(), 1e-12);
      assertEquals(
          3,
          s.get(Metric.MCQ_ACCURACY, "perception").n()
              + s.get(Metric.MCQ_ACCURACY, "reasoning").n());
      assertEquals(1, s.get(Metric.YES_NO_ACCURACY, "reasoning").n());
      assertEquals(
          4,
          s.get(Metric.ROUGE_L, "perception").n()
              + s.get(Metric.ROUGE_L, "reasoning").n()
              + s.get(Metric.ROUGE_L, "planning").n());

      Path report = EvaluationReport.write(result, dir.resolve("report"));
      JsonNode json =
          new ObjectMapper().readTree(report.resolve(EvaluationReport.JSON_FILE).toFile());
      assertEquals("drivekd-eval-report/1", json.get("format").asText());
      assertEquals(result.dataFingerprint(), json.at("/provenance/data/fingerprint").asText());
      assertEquals(8, json.at("/provenance/data/items").asInt());
      assertEquals("rubric-stub", json.at("/provenance/judge").asText());
      assertEquals(300, json.at("/provenance/bootstrap/resamples").asInt());
      assertTrue(json.at("/provenance/versions/drivekd").isTextual());
      assertEquals("student-tiny", json.at("/models/0/model").asText());
      assertEquals(70.0, json.at("/models/0/scores/judge_score/planning/value").asDouble(), 1e-12);
      assertEquals(1, json.at("/models/0/judge_counts/overall/unparseable").asInt());
      String md = Files.readString(report.resolve(EvaluationReport.MARKDOWN_FILE));
      assertTrue(md.contains("| student-tiny | 40.0 ["), md);
      for (Metric m : List.of(Metric.JUDGE_SCORE, Metric.MCQ_ACCURACY, Metric.ROUGE_L)) {
        assertNotNull(
            ImageIO.read(report.resolve(EvaluationReport.chartFile(m)).toFile()), m.key());
      }

      // the report folder exists now: refused, nothing touched
      IllegalArgumentException again =
          assertThrows(
              IllegalArgumentException.class, () -> EvaluationReport.write(result, report));
      assertTrue(again.getMessage().contains("already exists"), again.getMessage());
      try (var listing = Files.list(dir)) {
        assertEquals(2, listing.count(), "answers and report only: no temporary folder left");
      }

      // a rerun answers nothing and asks the judge again only through its own cache
      Evaluation.Result rerun =
          Evaluation.builder(items, dir.resolve("answers"))
              .addModel(GreedyAnswers.of(student, encoder, 8))
              .build()
              .run();
      assertEquals(8, rerun.models().get(0).answers().reused());
      assertEquals(0, rerun.models().get(0).answers().generated());
    }
  }

  @Test
  void aJudgeThatAnswersNothingStopsTheRunWithOneLine() throws IOException {
    TinyDriving tiny = new TinyDriving(dir);
    Judge down =
        new Judge() {
          @Override
          public List<JudgeVerdict> judge(List<JudgePrompt> prompts) {
            return prompts.stream()
                .map(
                    p ->
                        new JudgeVerdict(
                            JudgeVerdict.Status.FAILED,
                            OptionalInt.empty(),
                            "",
                            "ConnectException: refused",
                            false,
                            3))
                .toList();
          }

          @Override
          public String name() {
            return "judge-model";
          }
        };
    try (InternVlModel model = tiny.model("student-tiny", 3)) {
      Evaluation e =
          Evaluation.builder(EvalItem.of(tiny.dataset), dir.resolve("answers"))
              .addModel(GreedyAnswers.of(model, tiny.encoder(model.card()), 4))
              .optJudge(down)
              .build();
      JudgeUnavailableException x = assertThrows(JudgeUnavailableException.class, e::run);
      // TinyDriving's yes/no questions are not judged: 3 of its 6 are
      assertEquals(
          "judge judge-model answered none of 3 prompts: ConnectException: refused",
          x.getMessage());
    }
  }

  @Test
  void aTokenizerThatCannotReadTheDataIsRefusedBeforeAnyAnswer() throws Exception {
    TinyDriving tiny = new TinyDriving(dir);
    Path file = fixture();
    List<EvalItem> drivebench =
        new DriveBenchReader(file.getParent(), ImageCheckPolicy.REQUIRE_READABLE, null).read(file);
    try (InternVlModel model = tiny.model("student-tiny", 3)) {
      Evaluation e =
          Evaluation.builder(drivebench, dir.resolve("answers"))
              .addModel(GreedyAnswers.of(model, tiny.encoder(model.card()), 4))
              .build();
      IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e::run);
      assertTrue(
          x.getMessage().startsWith("the tokenizer of student-tiny cannot encode this data: "),
          x.getMessage());
      assertTrue(x.getMessage().contains("unknown to it (item "), x.getMessage());
      assertFalse(Files.exists(dir.resolve("answers")), "nothing written");
    }
  }
}
