package dev.drivekd.examples.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.Map;

/** Writes a subcommand's figures as one JSON object ({@code --json}). */
final class JsonOutput {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonOutput() {}

  static void print(PrintWriter out, Map<String, ?> figures) {
    try {
      out.println(MAPPER.writeValueAsString(figures));
      out.flush();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write figures as JSON", e);
    }
  }
}
