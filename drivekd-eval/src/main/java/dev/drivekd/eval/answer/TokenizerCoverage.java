package dev.drivekd.eval.answer;

import dev.drivekd.core.text.Tokenizer;
import dev.drivekd.eval.EvalItem;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Whether a model's tokenizer can read an evaluation set: for tokenizers with an unknown-word id,
 * the share of the questions' tokens that are unknown (whitespace tokens not counted). A set whose
 * questions are more than half unknown to the tokenizer (a model trained on other data) is refused
 * before any answer is made.
 */
public final class TokenizerCoverage {

  /** The largest unknown share accepted. */
  public static final double MAX_UNKNOWN_SHARE = 0.5;

  private TokenizerCoverage() {}

  /**
   * The share of unknown tokens in the items' questions (0 for tokenizers that encode any text).
   *
   * @throws IllegalArgumentException above {@link #MAX_UNKNOWN_SHARE}, naming the model, the share
   *     and the item with the most unknown tokens
   */
  public static double check(String model, Tokenizer tokenizer, List<EvalItem> items) {
    OptionalLong unk = tokenizer.unknownId();
    if (unk.isEmpty()) {
      return 0.0;
    }
    long total = 0;
    long unknown = 0;
    String worst = null;
    long worstUnknown = -1;
    long worstTotal = 0;
    Map<Long, Boolean> blank = new HashMap<>();
    for (EvalItem item : items) {
      long u = 0;
      long n = 0;
      for (long id : tokenizer.encode(item.sample().question())) {
        if (id == unk.getAsLong()) {
          u++;
          n++;
        } else if (!blank.computeIfAbsent(id, i -> tokenizer.decode(new long[] {i}).isBlank())) {
          n++;
        }
      }
      total += n;
      unknown += u;
      if (u > worstUnknown) {
        worstUnknown = u;
        worst = item.id();
        worstTotal = n;
      }
    }
    double share = total == 0 ? 0.0 : (double) unknown / total;
    if (share > MAX_UNKNOWN_SHARE) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "the tokenizer of %s cannot encode this data: %.0f%% of the questions' tokens are"
                  + " unknown to it (item %s: %d of %d)",
              model,
              100 * share,
              worst,
              worstUnknown,
              worstTotal));
    }
    return share;
  }
}
