package dev.drivekd.eval;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
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
 *
 * <p>{@link #robust(String, String)} reads what a person would: the {@code Final:} line, an answer
 * that is or opens with a letter, a letter the answer names ({@code "the answer is C"}, {@code
 * "option b"}, {@code "(D)"}), and finally the text of exactly one listed option; it never takes
 * the article "a" for option A.
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

  private static final Pattern OPTION_MARK = Pattern.compile("(?:^|\\s)\\(?([A-D])[.)]\\s+");
  private static final Pattern BARE =
      Pattern.compile(
          "^\\s*(?:option\\s+)?\\(?([A-Da-d])\\)?\\s*[.!]?\\s*$", Pattern.CASE_INSENSITIVE);
  private static final Pattern NAMED =
      Pattern.compile(
          "(?i:answer(?:\\s+is)?|option|choice|choose|select|pick)\\s*[:\\-]?\\s*\\(?"
              + "([A-D]\\b|[a-d](?=\\s*(?:$|[.),:;!])))");
  private static final Pattern PARENTHESISED = Pattern.compile("\\(([A-D])\\)");
  private static final Pattern CAPITAL =
      Pattern.compile("(?<![\\w'])([B-D])(?![\\w'])|(?<![\\w'])A(?=[.):])");

  private McqOption() {}

  /**
   * The option a free-form answer picks, read robustly: in order, the {@code Final:} line; an
   * answer that is a letter ({@code "B"}, {@code "(b)"}, {@code "option c."}) or opens with one
   * ({@code "B. Turn left"}); letters the answer names ({@code "the answer is C"}, {@code "(D)"}, a
   * capital B-D standing alone, or a capital A followed by {@code .}, {@code )} or {@code :}; a
   * lower-case letter only where a sentence could end after it, so {@code "the answer is a car"}
   * names none); the text of exactly one of the question's listed options. Within a step, two
   * different letters make the answer ambiguous and the next step is not tried: the answer picks
   * nothing.
   *
   * @param answer the model's answer
   * @param question the question, whose listed options are matched back (may be empty)
   */
  public static Optional<Character> robust(String answer, String question) {
    Matcher m = FINAL.matcher(answer);
    if (m.find()) {
      return Optional.of(Character.toUpperCase(m.group(1).charAt(0)));
    }
    m = BARE.matcher(answer);
    if (m.find()) {
      return Optional.of(Character.toUpperCase(m.group(1).charAt(0)));
    }
    m = LEADING.matcher(answer);
    if (m.find()) {
      return Optional.of(m.group(1).charAt(0));
    }
    TreeSet<Character> named = new TreeSet<>();
    for (Pattern p : new Pattern[] {NAMED, PARENTHESISED, CAPITAL}) {
      Matcher letters = p.matcher(answer);
      while (letters.find()) {
        String g = letters.group(1) != null ? letters.group(1) : letters.group();
        named.add(Character.toUpperCase(g.charAt(0)));
      }
    }
    if (!named.isEmpty()) {
      return named.size() == 1 ? Optional.of(named.first()) : Optional.empty();
    }
    return optionByText(answer, question);
  }

  /**
   * The options a question lists ({@code A. Going ahead. B. Turn left.}), letter to text, the text
   * without its closing full stop; empty when the question lists none.
   */
  public static Map<Character, String> listedOptions(String question) {
    Map<Character, String> options = new LinkedHashMap<>();
    Matcher m = OPTION_MARK.matcher(question);
    int textStart = -1;
    char letter = 0;
    while (m.find()) {
      if (textStart >= 0) {
        options.put(letter, trimOption(question.substring(textStart, m.start())));
      }
      letter = m.group(1).charAt(0);
      textStart = m.end();
    }
    if (textStart >= 0) {
      String rest = question.substring(textStart);
      int end = rest.indexOf('\n');
      options.put(letter, trimOption(end < 0 ? rest : rest.substring(0, end)));
    }
    return options;
  }

  private static Optional<Character> optionByText(String answer, String question) {
    String said = normalise(answer);
    Character found = null;
    for (Map.Entry<Character, String> option : listedOptions(question).entrySet()) {
      String text = normalise(option.getValue());
      if (!text.isBlank() && (" " + said + " ").contains(" " + text + " ")) {
        if (found != null) {
          return Optional.empty();
        }
        found = option.getKey();
      }
    }
    return Optional.ofNullable(found);
  }

  private static String trimOption(String text) {
    String t = text.strip();
    while (t.endsWith(".")) {
      t = t.substring(0, t.length() - 1).strip();
    }
    return t;
  }

  private static String normalise(String text) {
    return text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", " ").strip();
  }

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
