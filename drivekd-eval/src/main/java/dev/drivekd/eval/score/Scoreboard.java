package dev.drivekd.eval.score;

import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.answer.AnswerRecord;
import dev.drivekd.eval.judge.JudgeVerdict;
import dev.drivekd.eval.metrics.Bleu;
import dev.drivekd.eval.metrics.CiderD;
import dev.drivekd.eval.metrics.MetricTokens;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * One model's scores on one set: every {@link Metric} per capability and overall, each with its
 * bootstrap interval. A capability's score is computed over its items that the metric applies to
 * (multiple-choice items for accuracy, open items for the language metrics, scored items for the
 * judge). "Overall" is the mean of the capabilities' scores, as the paper's Avg column, and its
 * interval resamples within each capability; it is reported only when every capability has items
 * for the metric.
 */
public final class Scoreboard {

  /** The key of the overall score. */
  public static final String OVERALL = "overall";

  private final List<ItemScore> items;
  private final double[] cider;
  private final List<JudgeVerdict> verdicts;
  private final Map<Metric, Map<String, Interval>> scores = new EnumMap<>(Metric.class);
  private final Map<String, JudgeCounts> judgeCounts = new LinkedHashMap<>();

  /**
   * Judge outcomes of one capability.
   *
   * @param asked answers sent to the judge (or found in its cache)
   * @param scored replies with a valid score
   * @param unparseable replies without one
   * @param failed calls that got no reply
   */
  public record JudgeCounts(int asked, int scored, int unparseable, int failed) {}

  /**
   * Scores {@code answers}.
   *
   * @param answers the stored answers
   * @param verdicts the judge's verdicts, aligned with {@code answers} (null where an answer was
   *     not judged), or null when no judge was used
   * @param bootstrap resamples and seed of the intervals
   */
  public Scoreboard(List<AnswerRecord> answers, List<JudgeVerdict> verdicts, Bootstrap bootstrap) {
    if (verdicts != null && verdicts.size() != answers.size()) {
      throw new IllegalArgumentException(
          verdicts.size() + " verdicts for " + answers.size() + " answers");
    }
    this.items = answers.stream().map(ItemScore::of).toList();
    this.verdicts = verdicts;
    this.cider = cider(items);
    for (Metric m : Metric.values()) {
      if (m == Metric.JUDGE_SCORE && verdicts == null) {
        continue;
      }
      scores.put(m, score(m, bootstrap));
    }
    if (verdicts != null) {
      for (Capability c : Capability.values()) {
        judgeCounts.put(c.key(), counts(i -> items.get(i).answer().capability() == c));
      }
      judgeCounts.put(OVERALL, counts(i -> true));
    }
  }

  /** The per-item scores, in the answers' order. */
  public List<ItemScore> items() {
    return items;
  }

  /** Metric to (capability key or {@value #OVERALL}) to interval; absent keys had no items. */
  public Map<Metric, Map<String, Interval>> scores() {
    return scores;
  }

  /** The interval of {@code metric} for a capability key or {@value #OVERALL}. */
  public Interval get(Metric metric, String key) {
    return scores.getOrDefault(metric, Map.of()).getOrDefault(key, Interval.empty());
  }

  /** Judge outcomes per capability key and overall (empty without a judge). */
  public Map<String, JudgeCounts> judgeCounts() {
    return judgeCounts;
  }

  private JudgeCounts counts(IntPredicate which) {
    int asked = 0;
    int scored = 0;
    int unparseable = 0;
    int failed = 0;
    for (int i = 0; i < items.size(); i++) {
      JudgeVerdict v = verdicts.get(i);
      if (v == null || !which.test(i)) {
        continue;
      }
      asked++;
      switch (v.status()) {
        case SCORED -> scored++;
        case UNPARSEABLE -> unparseable++;
        case FAILED -> failed++;
      }
    }
    return new JudgeCounts(asked, scored, unparseable, failed);
  }

  private Map<String, Interval> score(Metric metric, Bootstrap bootstrap) {
    Map<String, Interval> out = new LinkedHashMap<>();
    List<int[]> groups = new ArrayList<>();
    for (Capability c : Capability.values()) {
      int[] idx = indices(i -> items.get(i).answer().capability() == c && applies(metric, i));
      if (idx.length > 0) {
        out.put(c.key(), bootstrap.interval(idx, s -> statistic(metric, s)));
        groups.add(idx);
      }
    }
    if (groups.size() == Capability.values().length) {
      out.put(
          OVERALL,
          bootstrap.grouped(
              groups,
              g -> g.stream().mapToDouble(s -> statistic(metric, s)).average().orElse(Double.NaN)));
    }
    return out;
  }

  private boolean applies(Metric metric, int i) {
    ItemScore s = items.get(i);
    return switch (metric) {
      case MCQ_ACCURACY_DRIVEBENCH, MCQ_ACCURACY ->
          s.answer().form() == dev.drivekd.eval.QuestionForm.MULTIPLE_CHOICE;
      case YES_NO_ACCURACY -> s.answer().form() == dev.drivekd.eval.QuestionForm.YES_NO;
      case BLEU4, ROUGE_L, CIDER_D -> s.open();
      case JUDGE_SCORE ->
          verdicts.get(i) != null && verdicts.get(i).status() == JudgeVerdict.Status.SCORED;
    };
  }

  private double statistic(Metric metric, int[] sample) {
    return switch (metric) {
      case MCQ_ACCURACY_DRIVEBENCH -> percent(sample, i -> items.get(i).driveBenchCorrect());
      case MCQ_ACCURACY -> percent(sample, i -> items.get(i).robustCorrect());
      case YES_NO_ACCURACY -> percent(sample, i -> items.get(i).yesNoCorrect());
      case BLEU4 -> {
        List<Bleu.Stats> stats = new ArrayList<>(sample.length);
        for (int i : sample) {
          stats.add(items.get(i).bleu());
        }
        yield Bleu.score(stats);
      }
      case ROUGE_L -> mean(sample, i -> items.get(i).rougeL());
      case CIDER_D -> mean(sample, i -> cider[i]);
      case JUDGE_SCORE -> mean(sample, i -> verdicts.get(i).score().getAsInt());
    };
  }

  private static double percent(int[] sample, IntPredicate correct) {
    int n = 0;
    for (int i : sample) {
      if (correct.test(i)) {
        n++;
      }
    }
    return 100.0 * n / sample.length;
  }

  private static double mean(int[] sample, java.util.function.IntToDoubleFunction value) {
    double sum = 0;
    for (int i : sample) {
      sum += value.applyAsDouble(i);
    }
    return sum / sample.length;
  }

  private int[] indices(IntPredicate keep) {
    return java.util.stream.IntStream.range(0, items.size()).filter(keep).toArray();
  }

  /** CIDEr-D of every open answer, document frequencies over all open answers' references. */
  private static double[] cider(List<ItemScore> items) {
    double[] out = new double[items.size()];
    List<List<List<String>>> refs = new ArrayList<>();
    for (ItemScore s : items) {
      if (s.open()) {
        refs.add(List.of(MetricTokens.coco(s.answer().reference())));
      }
    }
    if (refs.isEmpty()) {
      return out;
    }
    CiderD scorer = new CiderD(refs);
    for (int i = 0; i < items.size(); i++) {
      ItemScore s = items.get(i);
      out[i] =
          s.open()
              ? scorer.score(
                  MetricTokens.coco(s.answer().answer()),
                  List.of(MetricTokens.coco(s.answer().reference())))
              : Double.NaN;
    }
    return out;
  }
}
