package dev.drivekd.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * BLEU, ROUGE-L and CIDEr-D against the reference tools' own worked examples: NLTK's {@code
 * bleu_score} docstring, sacreBLEU's README, rouge-score's README and tests, and pycocoevalcap's
 * {@code CiderScorer} run on a small set (the CIDEr values were obtained by running that scorer,
 * which publishes no small example).
 */
class LanguageMetricsTest {

  private static List<String> split(String s) {
    return Arrays.asList(s.split(" "));
  }

  // NLTK's bleu_score examples (tokens split on spaces; case matters)
  private static final List<String> HYP1 =
      split(
          "It is a guide to action which ensures that the military always obeys the commands of"
              + " the party");
  private static final List<String> HYP2 =
      split("It is to insure the troops forever hearing the activity guidebook that party direct");
  private static final List<String> REF1 =
      split(
          "It is a guide to action that ensures that the military will forever heed Party commands");
  private static final List<String> REF2 =
      split(
          "It is the guiding principle which guarantees the military forces always being under"
              + " the command of the Party");
  private static final List<String> REF3 =
      split("It is the practical guide for the army always to heed the directions of the party");

  @Test
  void sentenceBleuMatchesNltk() {
    Bleu.Stats s = Bleu.stats(HYP1, List.of(REF1, REF2, REF3));
    assertArrayEquals(new long[] {17, 10, 7, 4}, s.matches());
    assertArrayEquals(new long[] {18, 17, 16, 15}, s.totals());
    assertEquals(18, s.referenceLength());
    assertEquals(0.5045666840058485, Bleu.score(s), 1e-12);
    assertEquals(0.41180376356915777, Bleu.score(Bleu.stats(HYP1, List.of(REF1))), 1e-12);
    // no matching 4-gram: 0 (NLTK: 5.9e-155)
    assertEquals(0.0, Bleu.score(Bleu.stats(HYP2, List.of(REF1, REF2, REF3))), 1e-150);
  }

  @Test
  void corpusBleuMatchesNltk() {
    List<String> hyp = split("he read the book because he was interested in world history");
    List<String> ref = split("he was interested in world history because he read the book");
    double corpus =
        Bleu.score(
            List.of(Bleu.stats(HYP1, List.of(REF1, REF2, REF3)), Bleu.stats(hyp, List.of(ref))));
    assertEquals(0.5920778868801042, corpus, 1e-12);
  }

  @Test
  void brevityPenaltyTakesTheClosestReferenceAndTheShorterOnATie() {
    List<String> twelve = Arrays.asList(new String[12]).stream().map(x -> "w").toList();
    List<List<String>> refs = List.of(twelve.subList(0, 11), twelve, twelve);
    // refs 13 and 11 for a 12-token hypothesis: 11 wins the tie
    List<String> thirteen = new java.util.ArrayList<>(twelve);
    thirteen.add("w");
    assertEquals(
        11, Bleu.stats(twelve, List.of(thirteen, twelve.subList(0, 11))).referenceLength());
    assertEquals(12, Bleu.stats(twelve, refs).referenceLength());
  }

  @Test
  void corpusBleuWithThe13aTokensMatchesSacreBleusReadme() {
    String[] sys = {
      "The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."
    };
    String[][] refs = {
      {"The dog bit the man.", "The dog had bit the man."},
      {"It was not unexpected.", "No one was surprised."},
      {"The man bit him first.", "The man had bitten the dog."}
    };
    List<Bleu.Stats> stats = new java.util.ArrayList<>();
    for (int i = 0; i < sys.length; i++) {
      stats.add(
          Bleu.stats(
              MetricTokens.mteval13a(sys[i]),
              Arrays.stream(refs[i]).map(MetricTokens::mteval13a).toList()));
    }
    Bleu.Stats sum = Bleu.Stats.sum(stats);
    assertArrayEquals(new long[] {14, 7, 5, 3}, sum.matches());
    assertArrayEquals(new long[] {17, 14, 11, 8}, sum.totals());
    assertEquals(18, sum.referenceLength());
    assertEquals(48.530827009929865, 100 * Bleu.score(sum), 1e-9);
    assertEquals(
        List.of("It", "wasn't", "surprising", "."),
        MetricTokens.mteval13a("It wasn't surprising."));
    assertEquals(List.of("3.5", "km", ",", "go"), MetricTokens.mteval13a("3.5 km, go"));
  }

  @Test
  void rougeLMatchesRougeScore() {
    RougeL.Score s =
        RougeL.of(
            MetricTokens.rouge("The quick brown dog jumps on the log."),
            MetricTokens.rouge("The quick brown fox jumps over the lazy dog"));
    assertEquals(0.625, s.precision(), 1e-12);
    assertEquals(5.0 / 9, s.recall(), 1e-12);
    assertEquals(0.5882352941176471, s.f(), 1e-12);
    RougeL.Score t =
        RougeL.of(MetricTokens.rouge("testing two"), MetricTokens.rouge("testing one two"));
    assertEquals(1.0, t.precision(), 1e-12);
    assertEquals(2.0 / 3, t.recall(), 1e-12);
    assertEquals(0.8, t.f(), 1e-12);
    assertEquals(0.0, RougeL.of(List.of(), MetricTokens.rouge("testing")).f());
    assertEquals(List.of("caf", "na", "ve"), MetricTokens.rouge("Café naïve"));
  }

  @Test
  void ciderDMatchesPycocoevalcapsScorer() {
    List<List<List<String>>> refs =
        List.of(
            List.of(split("a cat is on the mat"), split("there is a cat on a mat")),
            List.of(split("a dog is running in a park"), split("the dog runs through the park")));
    List<List<String>> hyps =
        List.of(split("a cat sits on a mat"), split("a dog runs in the park"));
    CiderD cider = new CiderD(refs);
    double a = cider.score(hyps.get(0), refs.get(0));
    double b = cider.score(hyps.get(1), refs.get(1));
    assertEquals(3.2079640510606207, a, 1e-12);
    assertEquals(2.587139123702744, b, 1e-12);
    assertEquals(2.8975515873816824, (a + b) / 2, 1e-12);

    List<List<List<String>>> three = new java.util.ArrayList<>(refs);
    three.add(List.of(split("a man rides a horse"), split("a person riding a brown horse")));
    CiderD cider3 = new CiderD(three);
    assertEquals(3.14657400223338, cider3.score(hyps.get(0), three.get(0)), 1e-12);
    assertEquals(
        2.445720282861048, cider3.score(split("a man riding a horse"), three.get(2)), 1e-12);
    // a set of one: every weight is ln 1 = 0
    assertEquals(0.0, new CiderD(refs.subList(0, 1)).score(hyps.get(0), refs.get(0)));
    // identical captions score 10
    List<List<List<String>>> same =
        List.of(List.of(split("a b c d e")), List.of(split("f g h i j")));
    assertEquals(10.0, new CiderD(same).score(split("a b c d e"), same.get(0)), 1e-12);
  }
}
