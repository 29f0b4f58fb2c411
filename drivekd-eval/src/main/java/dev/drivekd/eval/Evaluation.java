package dev.drivekd.eval;

import dev.drivekd.eval.answer.AnswerGeneration;
import dev.drivekd.eval.answer.Answerer;
import dev.drivekd.eval.judge.Judge;
import dev.drivekd.eval.judge.JudgePrompt;
import dev.drivekd.eval.judge.JudgeTask;
import dev.drivekd.eval.judge.JudgeUnavailableException;
import dev.drivekd.eval.judge.JudgeVerdict;
import dev.drivekd.eval.score.Bootstrap;
import dev.drivekd.eval.score.Scoreboard;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores models on a held-out set the way the paper does: each model answers every item (answers
 * stored and reused, {@link AnswerGeneration}), the judge scores the answers it applies to, and a
 * {@link Scoreboard} per model holds every metric per capability and overall with bootstrap
 * intervals. {@link dev.drivekd.eval.report.EvaluationReport} writes the result.
 *
 * <pre>{@code
 * Evaluation.Result r = Evaluation.builder(items, answersDir)
 *     .addModel(GreedyAnswers.of(student, encoder, 128))
 *     .addModel(GreedyAnswers.of(teacher, encoder, 128))
 *     .optJudge(new ChatCompletionsJudge(JudgeEndpoint.fromEnvironment(System.getenv()), cache))
 *     .build()
 *     .run();
 * }</pre>
 */
public final class Evaluation {

  private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);

  private final List<EvalItem> items;
  private final Path answersDir;
  private final List<Answerer> models;
  private final Judge judge;
  private final Bootstrap bootstrap;
  private final String dataName;

  private Evaluation(Builder b) {
    this.items = List.copyOf(b.items);
    this.answersDir = b.answersDir;
    this.models = List.copyOf(b.models);
    this.judge = b.judge;
    this.bootstrap = b.bootstrap;
    this.dataName = b.dataName;
  }

  /**
   * An evaluation of {@code items}; each model's answers are kept in {@code answersDir}.
   *
   * @throws IllegalArgumentException when there is no item
   */
  public static Builder builder(List<EvalItem> items, Path answersDir) {
    return new Builder(items, answersDir);
  }

  /**
   * One model's outcome.
   *
   * @param answers its answers (with reuse counts and fingerprints)
   * @param verdicts the judge's verdicts aligned with the answers (null where not judged), or null
   *     without a judge
   * @param scores its scores
   */
  public record ModelResult(
      AnswerGeneration.Result answers, List<JudgeVerdict> verdicts, Scoreboard scores) {

    /** The model's name. */
    public String model() {
      return answers.header().model();
    }
  }

  /**
   * What an evaluation produced.
   *
   * @param dataName the data's name for reports (usually its file name)
   * @param dataFingerprint the items' fingerprint
   * @param items how many items
   * @param models per model, in the order added
   * @param judge the judge's name, or empty
   * @param bootstrap the intervals' settings
   * @param seconds wall time
   */
  public record Result(
      String dataName,
      String dataFingerprint,
      int items,
      List<ModelResult> models,
      Optional<String> judge,
      Bootstrap bootstrap,
      double seconds) {}

  /**
   * Answers, judges and scores every model.
   *
   * @throws IllegalStateException when a judge was given and answered none of its prompts (one line
   *     naming the judge and the first error)
   */
  public Result run() {
    long start = System.nanoTime();
    List<ModelResult> results = new ArrayList<>();
    String dataFingerprint = null;
    for (Answerer model : models) {
      Path file = answersDir.resolve(fileName(model));
      AnswerGeneration.Result answers = AnswerGeneration.run(items, model, file);
      dataFingerprint = answers.header().dataFingerprint();
      List<JudgeVerdict> verdicts = judge == null ? null : judge(answers);
      results.add(
          new ModelResult(
              answers, verdicts, new Scoreboard(answers.answers(), verdicts, bootstrap)));
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info(
        "evaluated {} models on {} items in {}",
        models.size(),
        items.size(),
        Duration.ofMillis((long) (seconds * 1000)));
    return new Result(
        dataName,
        dataFingerprint,
        items.size(),
        results,
        Optional.ofNullable(judge).map(Judge::name),
        bootstrap,
        seconds);
  }

  private List<JudgeVerdict> judge(AnswerGeneration.Result answers) {
    List<JudgePrompt> prompts = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      EvalItem item = items.get(i);
      Optional<JudgeTask> task = JudgeTask.of(item.questionType(), item.capability(), item.form());
      if (task.isPresent()) {
        prompts.add(
            JudgePrompt.of(
                task.get(),
                item.sample().question(),
                item.reference(),
                answers.answers().get(i).answer(),
                item.objectDescription()));
        positions.add(i);
      }
    }
    List<JudgeVerdict> verdicts =
        new ArrayList<>(java.util.Collections.nCopies(items.size(), (JudgeVerdict) null));
    if (prompts.isEmpty()) {
      return verdicts;
    }
    List<JudgeVerdict> got = judge.judge(prompts);
    int failed = 0;
    String firstError = null;
    for (int k = 0; k < got.size(); k++) {
      JudgeVerdict v = got.get(k);
      verdicts.set(positions.get(k), v);
      if (v.status() == JudgeVerdict.Status.FAILED) {
        failed++;
        firstError = firstError == null ? v.error() : firstError;
      }
    }
    if (failed == got.size()) {
      throw new JudgeUnavailableException(
          "judge " + judge.name() + " answered none of " + got.size() + " prompts: " + firstError);
    }
    if (failed > 0) {
      LOG.warn(
          "judge {}: {} of {} prompts got no reply (first: {}); they are reported, not scored",
          judge.name(),
          failed,
          got.size(),
          firstError);
    }
    return verdicts;
  }

  private static String fileName(Answerer model) {
    String safe = model.modelName().replaceAll("[^A-Za-z0-9._-]+", "_");
    return safe + "-" + model.fingerprint().substring(0, 12) + ".answers.jsonl";
  }

  /** Builds an {@link Evaluation}. */
  public static final class Builder {
    private final List<EvalItem> items;
    private final Path answersDir;
    private final List<Answerer> models = new ArrayList<>();
    private Judge judge;
    private Bootstrap bootstrap = new Bootstrap(2000, 0);
    private String dataName = "data";

    private Builder(List<EvalItem> items, Path answersDir) {
      if (items.isEmpty()) {
        throw new IllegalArgumentException("nothing to evaluate: the evaluation set is empty");
      }
      this.items = items;
      this.answersDir = Objects.requireNonNull(answersDir, "answersDir");
    }

    /** Adds a model; models are answered, judged and reported in this order. */
    public Builder addModel(Answerer model) {
      if (models.stream().anyMatch(m -> m.modelName().equals(model.modelName()))) {
        throw new IllegalArgumentException("two models are named " + model.modelName());
      }
      models.add(model);
      return this;
    }

    /** Scores answers with {@code judge} too (none by default). */
    public Builder optJudge(Judge judge) {
      this.judge = judge;
      return this;
    }

    /** The intervals' resamples and seed (2,000 and 0 by default). */
    public Builder optBootstrap(Bootstrap bootstrap) {
      this.bootstrap = Objects.requireNonNull(bootstrap);
      return this;
    }

    /** The data's name in reports ("data" by default). */
    public Builder optDataName(String name) {
      this.dataName = Objects.requireNonNull(name);
      return this;
    }

    /** The evaluation. */
    public Evaluation build() {
      if (models.isEmpty()) {
        throw new IllegalArgumentException("add at least one model to evaluate");
      }
      return new Evaluation(this);
    }
  }
}
