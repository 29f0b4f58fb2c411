package dev.drivekd.eval.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The tokenisations the language metrics are defined on, each as its reference tool does it, so
 * that scores compare with published ones.
 */
public final class MetricTokens {

  private static final Pattern NON_ALNUM = Pattern.compile("[^a-z0-9]+");
  private static final Pattern WS = Pattern.compile("\\s+");
  // sacreBLEU's 13a rules, applied in order
  private static final Pattern SYMBOLS = Pattern.compile("([\\{-~\\[-` -&\\(-+:-@/])");
  private static final Pattern PERIOD_COMMA_AFTER = Pattern.compile("([^0-9])([.,])");
  private static final Pattern PERIOD_COMMA_BEFORE = Pattern.compile("([.,])([^0-9])");
  private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");
  private static final Pattern COCO_PUNCT = Pattern.compile("[^\\p{L}\\p{N}\\s']+");

  private MetricTokens() {}

  /**
   * Google rouge-score's default tokens: lower-cased, every run of characters outside {@code
   * [a-z0-9]} a separator (no stemming).
   */
  public static List<String> rouge(String text) {
    String t = NON_ALNUM.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ").strip();
    return t.isEmpty() ? List.of() : Arrays.asList(WS.split(t));
  }

  /**
   * sacreBLEU's {@code 13a} tokens (mteval-v13a): case kept, most punctuation split off, full stops
   * and commas split unless between digits, a dash after a digit split; apostrophes stay in words.
   */
  public static List<String> mteval13a(String text) {
    String t = text.stripTrailing().replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
    if (t.contains("&")) {
      t = t.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    }
    t = " " + t + " ";
    t = SYMBOLS.matcher(t).replaceAll(" $1 ");
    t = PERIOD_COMMA_AFTER.matcher(t).replaceAll("$1 $2 ");
    t = PERIOD_COMMA_BEFORE.matcher(t).replaceAll(" $1 $2");
    t = DASH_AFTER_DIGIT.matcher(t).replaceAll("$1 $2 ");
    t = t.strip();
    return t.isEmpty() ? List.of() : Arrays.asList(WS.split(t));
  }

  /**
   * Caption-evaluation tokens as the COCO toolkit feeds CIDEr: lower-cased, punctuation dropped (an
   * approximation of its PTB tokeniser that differs only on clitics and symbols).
   */
  public static List<String> coco(String text) {
    String t = COCO_PUNCT.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ").strip();
    if (t.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String token : WS.split(t)) {
      if (!token.equals("'")) {
        out.add(token);
      }
    }
    return out;
  }
}
