package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Extracts the question and answer of a record ({@code qa_loader._extract_qa}): string {@code
 * question} and {@code answer} fields win; otherwise the first user and first assistant message
 * with non-empty content. Unlike the reference, an empty result is an error, not an empty turn.
 */
final class QuestionAnswerExtractor {

  /** The extracted texts and the JSON fields they came from. */
  record Extracted(String question, String questionField, String answer, String answerField) {}

  private QuestionAnswerExtractor() {}

  static Extracted extract(JsonNode item, Path file, int recordIndex) {
    JsonNode q = item.get("question");
    JsonNode a = item.get("answer");
    if (q != null && q.isTextual() && a != null && a.isTextual()) {
      requireNonEmpty(q.textValue(), file, recordIndex, "question", "a non-empty question");
      requireNonEmpty(a.textValue(), file, recordIndex, "answer", "a non-empty answer");
      return new Extracted(q.textValue(), "question", a.textValue(), "answer");
    }
    JsonNode messages = item.get("messages");
    if (messages == null || !messages.isArray()) {
      String why =
          q != null && q.isTextual()
              ? "\"question\" is a string but \"answer\" is " + describe(a)
              : "no string \"question\" and \"answer\" fields";
      throw DatasetException.forField(
          file,
          recordIndex,
          "messages",
          "expected a list of {role, content} messages, found "
              + describe(messages)
              + " ("
              + why
              + ")");
    }
    String question = "";
    String questionField = null;
    String answer = "";
    String answerField = null;
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      if (!m.isObject()) {
        continue;
      }
      String role =
          PythonStrings.strip(m.has("role") ? PythonStrings.str(m.get("role")) : "")
              .toLowerCase(Locale.ROOT);
      // A present-but-null content is str()-ed to "None", exactly as the reference does.
      String content = m.has("content") ? PythonStrings.str(m.get("content")) : "";
      // The reference keeps looking while the text found so far is empty, so an empty first
      // message is skipped rather than taken.
      if ("user".equals(role) && question.isEmpty()) {
        question = content;
        questionField = "messages[" + i + "].content";
      } else if ("assistant".equals(role) && answer.isEmpty()) {
        answer = content;
        answerField = "messages[" + i + "].content";
      }
    }
    requireNonEmpty(
        question, file, recordIndex, "messages", "a user message with non-empty content");
    requireNonEmpty(
        answer, file, recordIndex, "messages", "an assistant message with non-empty content");
    return new Extracted(question, questionField, answer, answerField);
  }

  private static void requireNonEmpty(
      String text, Path file, int recordIndex, String field, String expected) {
    if (text.isEmpty()) {
      throw DatasetException.forField(file, recordIndex, field, "expected " + expected);
    }
  }

  static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    if (node.isNull()) {
      return "null";
    }
    return node.getNodeType().name().toLowerCase(Locale.ROOT);
  }
}
