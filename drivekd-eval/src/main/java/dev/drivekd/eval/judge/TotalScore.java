package dev.drivekd.eval.judge;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a judge's {@code Total Score: N} line strictly: the score is the integer after the last
 * {@code Total Score:} of the reply, and it must be a whole number from 0 to 100 ({@code 85},
 * {@code 85/100}, {@code **85**}); anything else (no such line, a word, a fraction, a number out of
 * range) is no score. DriveBench takes the first match of {@code Total Score:\s*(\d{1,3})\b}; the
 * last is read here because judges restate the format before they grade.
 */
public final class TotalScore {

  private static final Pattern LINE =
      Pattern.compile("total\\s+score\\s*:\\s*([^\\n]*)", Pattern.CASE_INSENSITIVE);
  private static final Pattern VALUE =
      Pattern.compile("^[*_\\s]*(\\d{1,3})(?:\\s*/\\s*100)?[*_\\s.]*$");

  private TotalScore() {}

  /** The score of {@code reply}, or empty when the reply does not state one as required. */
  public static OptionalInt parse(String reply) {
    if (reply == null) {
      return OptionalInt.empty();
    }
    Matcher m = LINE.matcher(reply);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    if (last == null) {
      return OptionalInt.empty();
    }
    Matcher v = VALUE.matcher(last);
    if (!v.matches()) {
      return OptionalInt.empty();
    }
    int score = Integer.parseInt(v.group(1));
    return score <= 100 ? OptionalInt.of(score) : OptionalInt.empty();
  }
}
