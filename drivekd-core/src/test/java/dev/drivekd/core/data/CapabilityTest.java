package dev.drivekd.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Capability indices, keys, Java-typed aliases and the Python string helpers behind them. */
class CapabilityTest {

  @Test
  void indicesAndKeys() {
    assertEquals(0, Capability.PERCEPTION.index());
    assertEquals(1, Capability.REASONING.index());
    assertEquals(2, Capability.PLANNING.index());
    assertEquals("perception", Capability.PERCEPTION.key());
    assertEquals("planning", Capability.PLANNING.key());
    assertEquals(Capability.REASONING, Capability.ofIndex(1));
    assertThrows(IllegalArgumentException.class, () -> Capability.ofIndex(3));
  }

  @Test
  void javaValuesGoThroughPythonStr() {
    assertEquals(Optional.empty(), Capability.fromQuestionType(null));
    assertEquals(Optional.empty(), Capability.fromQuestionType(true));
    assertEquals(Optional.empty(), Capability.fromQuestionType(1));
    assertEquals(Optional.empty(), Capability.fromQuestionType(2.5));
    assertEquals(Optional.of(Capability.PLANNING), Capability.fromQuestionType(" Plan-ning "));
  }

  @Test
  void pythonStripIsNotJavaStrip() {
    assertEquals("pl", PythonStrings.strip("\u00a0\u0085\u001c pl\u2028\u3000\u001f"));
    // U+200B is not whitespace for Python.
    assertEquals("\u200bpl", PythonStrings.strip(" \u200bpl"));
    assertEquals(Optional.empty(), Capability.fromQuestionType("\u200bpl"));
    assertEquals(Optional.of(Capability.REASONING), Capability.fromQuestionType("\u0085r\u001e"));
  }

  @Test
  void pythonStrOfNumbersAndBooleans() {
    assertEquals("True", PythonStrings.str(Boolean.TRUE));
    assertEquals("None", PythonStrings.str((Object) null));
    assertEquals("12345678901234567890", PythonStrings.str(new BigInteger("12345678901234567890")));
    assertEquals("2.5", PythonStrings.floatRepr(2.5));
    assertEquals("1.0", PythonStrings.floatRepr(1.0));
    assertEquals("-0.0", PythonStrings.floatRepr(-0.0));
    assertEquals("0.1", PythonStrings.floatRepr(0.1));
    assertEquals("0.0001", PythonStrings.floatRepr(1e-4));
    assertEquals("1e-05", PythonStrings.floatRepr(1e-5));
    assertEquals("1e+16", PythonStrings.floatRepr(1e16));
    assertEquals("1234567890123456.0", PythonStrings.floatRepr(1234567890123456.0));
    assertEquals("1.5e+300", PythonStrings.floatRepr(1.5e300));
    assertEquals("2e+23", PythonStrings.floatRepr(2e23));
    assertEquals("5e-324", PythonStrings.floatRepr(Double.MIN_VALUE));
    assertEquals("inf", PythonStrings.floatRepr(Double.POSITIVE_INFINITY));
  }

  @Test
  void pythonReprOfStrings() {
    assertEquals("'a'", PythonStrings.stringRepr("a"));
    assertEquals("\"it's\"", PythonStrings.stringRepr("it's"));
    assertEquals("'a\\'b\"'", PythonStrings.stringRepr("a'b\""));
    assertEquals("'\\n\\x00\\u2028é'", PythonStrings.stringRepr("\n\u0000\u2028é"));
  }

  @Test
  void containersAreReprStringsThatStillHitSubstringRules() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertEquals(
        "['perception', 1, None, True]",
        PythonStrings.str(json.readTree("[\"perception\", 1, null, true]")));
    assertEquals("{'k': 2.0}", PythonStrings.str(json.readTree("{\"k\": 2.0}")));
    assertEquals(
        Optional.of(Capability.PERCEPTION),
        Capability.fromQuestionType(json.readTree("[\"perception\"]")));
    assertTrue(UnknownTypePolicy.error().isError());
    assertEquals(
        Optional.of(Capability.PLANNING), UnknownTypePolicy.parse("planning").fallbackCapability());
  }
}
