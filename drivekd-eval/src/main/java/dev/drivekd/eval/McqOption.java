package dev.drivekd.eval;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The option (A-D) a multiple-choice answer picks, by one of two rules (method.md 7).
 *
 * <ul>
 *   <li>{@link Rule#DRIVEBENCH}: DriveBench's plain MCQ accuracy: on the lower-cased text, the
 *       first of A, B, C, D (in that order, not in order of appearance) whose letter or {@code
 *       option x} stands as a word. It is naive on purpose, for comparability: the article "a"
 *       anywhere picks A.
 *   <li>{@link Rule#FINAL_OPTION}: the answer format of the Drive-KD data: {@code Final: {A. ...}}
 *       or {@code Final: C. ...}; failing that, an option letter opening the answer ({@code B.},
 *       {@code (B)}).
 * </ul>
 */
public final class McqOption {

  /** How the option is read. */
  public enum Rule {
    /** DriveBench's regex, A checked first. */
    DRIVEBENCH,
    /** The data's {@code Final: X.} line, else a leading option letter. */
    FINAL_OPTION
  }

  private static final String LETTERS = "ABCD";
  private static final Pattern[] DRIVEBENCH = new Pattern[LETTERS.length()];

  static {
    for (int i = 0; i < LETTERS.length(); i++) {
      char x = Character.toLowerCase(LETTERS.charAt(i));
      DRIVEBENCH[i] = Pattern.compile("\\b(" + x + "|option " + x + ")\\b");
    }
  }

  private static final Pattern FINAL =
      Pattern.compile("final\\s*:\\s*\\{?\\s*\\(?([A-D])\\s*[.):}]", Pattern.CASE_INSENSITIVE);
  private static final Pattern LEADING = Pattern.compile("^\\s*\\(?([A-D])\\s*[.):]");
  private static final Pattern LISTS_A = Pattern.compile("(^|\\s)A\\.\\s");
  private static final Pattern LISTS_B = Pattern.compile("(^|\\s)B\\.\\s");

  private McqOption() {}

  /** The option {@code text} picks under {@code rule}, if any. */
  public static Optional<Character> of(String text, Rule rule) {
    if (rule == Rule.DRIVEBENCH) {
      String lower = text.toLowerCase(Locale.ROOT);
      for (int i = 0; i < LETTERS.length(); i++) {
        if (DRIVEBENCH[i].matcher(lower).find()) {
          return Optional.of(LETTERS.charAt(i));
        }
      }
      return Optional.empty();
    }
    Matcher m = FINAL.matcher(text);
    if (m.find()) {
      return Optional.of(Character.toUpperCase(m.group(1).charAt(0)));
    }
    m = LEADING.matcher(text);
    return m.find() ? Optional.of(m.group(1).charAt(0)) : Optional.empty();
  }

  /** Whether a question lists options ({@code A. ... B. ...}): a multiple-choice question. */
  public static boolean isMultipleChoice(String question) {
    return LISTS_A.matcher(question).find() && LISTS_B.matcher(question).find();
  }
}
