package dev.drivekd.core.text;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The pre-tokenisation of {@link WordTokenizer}: splits text into pieces that concatenate back to
 * the text exactly. Scanning left to right, each piece is the first that applies of:
 *
 * <ol>
 *   <li>a <b>marker</b>: one of the configured marker strings (by default the chat and image
 *       markers {@code <|im_start|>}, {@code <|im_end|>}, {@code <img>}, {@code </img>}), longest
 *       match first, case-sensitive;
 *   <li>a <b>whitespace run</b>: maximal run of whitespace code points (so {@code "\n"}, {@code "
 *       "} and {@code "\n\n"} are pieces of their own);
 *   <li>a <b>word</b>: maximal run of letters, digits, combining marks and {@code _} (so {@code
 *       CAM_FRONT} and {@code 0} are words, {@code 0.4678} is {@code 0 . 4678});
 *   <li>otherwise a single code point (punctuation, symbols: {@code <}, {@code ,}, {@code |}).
 * </ol>
 *
 * Case is kept here; lowercasing is a {@link WordTokenizer} option applied to non-marker pieces.
 */
public final class WordPreTokenizer {

  /** The default markers: the chat and image markers of method.md 6.3. */
  public static final List<String> DEFAULT_MARKERS =
      List.of("<|im_start|>", "<|im_end|>", "<img>", "</img>");

  private final List<String> markers;
  private final List<String> longestFirst;

  /**
   * Creates a pre-tokeniser.
   *
   * @param markers strings kept as single pieces; non-empty, distinct
   */
  public WordPreTokenizer(List<String> markers) {
    Objects.requireNonNull(markers, "markers");
    for (String m : markers) {
      if (m == null || m.isEmpty()) {
        throw new IllegalArgumentException("markers must be non-empty strings: " + markers);
      }
    }
    if (markers.stream().distinct().count() != markers.size()) {
      throw new IllegalArgumentException("markers must be distinct: " + markers);
    }
    this.markers = List.copyOf(markers);
    List<String> sorted = new ArrayList<>(markers);
    sorted.sort(Comparator.comparingInt(String::length).reversed());
    this.longestFirst = List.copyOf(sorted);
  }

  /** A pre-tokeniser with {@link #DEFAULT_MARKERS}. */
  public static WordPreTokenizer withDefaultMarkers() {
    return new WordPreTokenizer(DEFAULT_MARKERS);
  }

  /** The marker strings, in configuration order. */
  public List<String> markers() {
    return markers;
  }

  /** Whether {@code piece} is one of the markers. */
  public boolean isMarker(String piece) {
    return markers.contains(piece);
  }

  /** The pieces of {@code text}; their concatenation is {@code text}. */
  public List<String> split(String text) {
    List<String> pieces = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      String marker = markerAt(text, i);
      if (marker != null) {
        pieces.add(marker);
        i += marker.length();
        continue;
      }
      int cp = text.codePointAt(i);
      int end = i + Character.charCount(cp);
      if (isSpace(cp)) {
        while (end < n && isSpace(text.codePointAt(end)) && markerAt(text, end) == null) {
          end += Character.charCount(text.codePointAt(end));
        }
      } else if (isWordChar(cp)) {
        while (end < n && isWordChar(text.codePointAt(end)) && markerAt(text, end) == null) {
          end += Character.charCount(text.codePointAt(end));
        }
      }
      pieces.add(text.substring(i, end));
      i = end;
    }
    return pieces;
  }

  private String markerAt(String text, int i) {
    for (String m : longestFirst) {
      if (text.startsWith(m, i)) {
        return m;
      }
    }
    return null;
  }

  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp);
  }

  static boolean isWordChar(int cp) {
    if (cp == '_' || Character.isLetterOrDigit(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK
        || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK;
  }
}
