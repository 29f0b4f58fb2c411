package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.Map;

/**
 * Python {@code str()}, {@code repr()} and {@code str.strip()} for JSON values, so that type
 * aliases and {@code str()}-ed message contents match the reference byte for byte.
 */
final class PythonStrings {

  private PythonStrings() {}

  /** Python {@code str(x)} of a JSON value as {@code json.load} would have produced it. */
  static String str(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return "None";
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    return repr(node);
  }

  /** Python {@code str(x)} of a plain Java value (String, Boolean, Number, JsonNode or null). */
  static String str(Object value) {
    if (value == null) {
      return "None";
    }
    if (value instanceof JsonNode) {
      return str((JsonNode) value);
    }
    if (value instanceof CharSequence) {
      return value.toString();
    }
    if (value instanceof Boolean) {
      return ((Boolean) value) ? "True" : "False";
    }
    if (value instanceof Double || value instanceof Float) {
      return floatRepr(((Number) value).doubleValue());
    }
    if (value instanceof BigDecimal) {
      return floatRepr(((BigDecimal) value).doubleValue());
    }
    return value.toString();
  }

  private static String repr(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return "None";
    }
    if (node.isTextual()) {
      return stringRepr(node.textValue());
    }
    if (node.isBoolean()) {
      return node.booleanValue() ? "True" : "False";
    }
    if (node.isIntegralNumber()) {
      return node.bigIntegerValue().toString();
    }
    if (node.isNumber()) {
      return floatRepr(node.doubleValue());
    }
    if (node.isArray()) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < node.size(); i++) {
        sb.append(i == 0 ? "" : ", ").append(repr(node.get(i)));
      }
      return sb.append(']').toString();
    }
    StringBuilder sb = new StringBuilder("{");
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    boolean first = true;
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      sb.append(first ? "" : ", ").append(stringRepr(e.getKey())).append(": ");
      sb.append(repr(e.getValue()));
      first = false;
    }
    return sb.append('}').toString();
  }

  /** Python {@code repr(str)}: single quotes unless the text has ' and no ". */
  static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder sb = new StringBuilder().append(quote);
    s.codePoints()
        .forEach(
            cp -> {
              if (cp == quote || cp == '\\') {
                sb.append('\\').appendCodePoint(cp);
              } else if (cp == '\t') {
                sb.append("\\t");
              } else if (cp == '\n') {
                sb.append("\\n");
              } else if (cp == '\r') {
                sb.append("\\r");
              } else if (isPrintable(cp)) {
                sb.appendCodePoint(cp);
              } else if (cp < 0x100) {
                sb.append(String.format("\\x%02x", cp));
              } else if (cp < 0x10000) {
                sb.append(String.format("\\u%04x", cp));
              } else {
                sb.append(String.format("\\U%08x", cp));
              }
            });
    return sb.append(quote).toString();
  }

  private static boolean isPrintable(int cp) {
    if (cp == ' ') {
      return true;
    }
    switch (Character.getType(cp)) {
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
      case Character.SPACE_SEPARATOR:
        return false;
      default:
        return true;
    }
  }

  /**
   * Python {@code repr(float)}: the shortest digits that round-trip, fixed notation for decimal
   * exponents -4..15 and otherwise {@code d.ddde+XX}. Java 17's {@code Double.toString} is not
   * always shortest, hence the search over precisions.
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0.0) {
      return (1.0 / d < 0) ? "-0.0" : "0.0";
    }
    BigDecimal exact = new BigDecimal(d);
    BigDecimal shortest = exact;
    for (int precision = 1; precision <= 17; precision++) {
      BigDecimal candidate = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
      if (candidate.doubleValue() == d) {
        shortest = candidate;
        break;
      }
    }
    shortest = shortest.stripTrailingZeros();
    BigInteger unscaled = shortest.unscaledValue();
    String sign = unscaled.signum() < 0 ? "-" : "";
    String digits = unscaled.abs().toString();
    int exponent = digits.length() - 1 - shortest.scale();
    StringBuilder sb = new StringBuilder(sign);
    if (exponent >= -4 && exponent < 16) {
      if (exponent < 0) {
        sb.append("0.").append("0".repeat(-exponent - 1)).append(digits);
      } else if (digits.length() <= exponent + 1) {
        sb.append(digits).append("0".repeat(exponent + 1 - digits.length())).append(".0");
      } else {
        sb.append(digits, 0, exponent + 1).append('.').append(digits.substring(exponent + 1));
      }
    } else {
      sb.append(digits.charAt(0));
      if (digits.length() > 1) {
        sb.append('.').append(digits.substring(1));
      }
      sb.append(exponent < 0 ? "e-" : "e+");
      String exp = Integer.toString(Math.abs(exponent));
      sb.append(exp.length() < 2 ? "0" + exp : exp);
    }
    return sb.toString();
  }

  /**
   * Python {@code str.strip()} with no argument: strips Unicode whitespace as Python defines it.
   */
  static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isPythonWhitespace(s.charAt(start))) {
      start++;
    }
    while (end > start && isPythonWhitespace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  /**
   * Python's {@code str.isspace()} set: bidi classes WS, B, S and category Zs. It includes U+001C
   * to U+001F and U+0085 but not U+200B or U+FEFF, unlike Java's trim() and strip().
   */
  static boolean isPythonWhitespace(char c) {
    switch (c) {
      case '\t':
      case '\n':
      case '\u000b':
      case '\f':
      case '\r':
      case '\u001c':
      case '\u001d':
      case '\u001e':
      case '\u001f':
      case ' ':
      case '\u0085':
      case '\u00a0':
      case '\u1680':
      case '\u2028':
      case '\u2029':
      case '\u202f':
      case '\u205f':
      case '\u3000':
        return true;
      default:
        return c >= '\u2000' && c <= '\u200a';
    }
  }
}
