package dev.drivekd.eval.answer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.eval.QuestionForm;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers on disk as JSON lines: a header line ({@code format}, {@code model}, {@code
 * model_fingerprint}, {@code data_fingerprint}), then one line per answer ({@code id}, {@code
 * capability}, {@code question_type}, {@code form}, {@code question}, {@code reference}, {@code
 * answer}, {@code new_tokens}, {@code stopped}, {@code seconds}). Each answer is appended and
 * flushed as it is made, so an interrupted run keeps what it did; a torn last line is dropped when
 * the file is opened again.
 */
public final class AnswerFile implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AnswerFile.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The header's format tag. */
  public static final String FORMAT = "drivekd-answers/1";

  private final Path file;
  private final BufferedWriter writer;

  private AnswerFile(Path file, BufferedWriter writer) {
    this.file = file;
    this.writer = writer;
  }

  /**
   * The header of an answers file.
   *
   * @param model the model's name
   * @param modelFingerprint the answerer's fingerprint
   * @param dataFingerprint the items' fingerprint
   */
  public record Header(String model, String modelFingerprint, String dataFingerprint) {

    /** Whether stored answers under this header can stand for answers under {@code other}. */
    public boolean sameAnswersAs(Header other) {
      return modelFingerprint.equals(other.modelFingerprint)
          && dataFingerprint.equals(other.dataFingerprint);
    }
  }

  /**
   * The answers stored in {@code file} under {@code header}, by id; empty when there is no file or
   * it was made for another model or data (it is then replaced when written).
   */
  public static Map<String, AnswerRecord> stored(Path file, Header header) {
    Map<String, AnswerRecord> out = new LinkedHashMap<>();
    if (!Files.exists(file)) {
      return out;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read answers file " + file, e);
    }
    Optional<Header> found = lines.isEmpty() ? Optional.empty() : header(lines.get(0));
    if (found.isEmpty() || !found.get().sameAnswersAs(header)) {
      LOG.info(
          "{} holds answers of another model or data ({}); they will be replaced",
          file,
          found.map(Header::model).orElse("no header"));
      return out;
    }
    for (int i = 1; i < lines.size(); i++) {
      try {
        AnswerRecord r = record(JSON.readTree(lines.get(i)));
        out.put(r.id(), r);
      } catch (IOException | RuntimeException e) {
        if (i == lines.size() - 1) {
          LOG.warn(
              "{}: last line {} is torn (an interrupted run); it is answered again", file, i + 1);
        } else {
          throw new IllegalStateException(
              file + ", line " + (i + 1) + ": not an answer record: " + e.getMessage(), e);
        }
      }
    }
    return out;
  }

  /**
   * Opens {@code file} for writing under {@code header}, first holding exactly {@code kept} (the
   * stored answers still wanted), written to a temporary file and moved into place.
   */
  public static AnswerFile open(Path file, Header header, Iterable<AnswerRecord> kept) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        ObjectNode h = JSON.createObjectNode();
        h.put("format", FORMAT);
        h.put("model", header.model());
        h.put("model_fingerprint", header.modelFingerprint());
        h.put("data_fingerprint", header.dataFingerprint());
        w.write(h.toString());
        w.write('\n');
        for (AnswerRecord r : kept) {
          w.write(json(r));
          w.write('\n');
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new AnswerFile(
          file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write answers file " + file, e);
    }
  }

  /** Appends one answer and flushes it. */
  public void append(AnswerRecord r) {
    try {
      writer.write(json(r));
      writer.write('\n');
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to answers file " + file, e);
    }
  }

  @Override
  public void close() {
    try {
      writer.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close answers file " + file, e);
    }
  }

  private static Optional<Header> header(String line) {
    try {
      JsonNode h = JSON.readTree(line);
      if (!FORMAT.equals(h.path("format").asText())) {
        return Optional.empty();
      }
      return Optional.of(
          new Header(
              h.path("model").asText(),
              h.path("model_fingerprint").asText(),
              h.path("data_fingerprint").asText()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static String json(AnswerRecord r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", r.id());
    n.put("capability", r.capability().key());
    n.put("question_type", r.questionType());
    n.put("form", r.form().name().toLowerCase(java.util.Locale.ROOT));
    n.put("question", r.question());
    n.put("reference", r.reference());
    n.put("answer", r.answer());
    n.put("new_tokens", r.newTokens());
    n.put("stopped", r.stopped());
    n.put("seconds", r.seconds());
    return n.toString();
  }

  private static AnswerRecord record(JsonNode n) {
    for (String field : List.of("id", "capability", "form", "question", "reference", "answer")) {
      if (!n.path(field).isTextual()) {
        throw new IllegalArgumentException("field " + field + " missing or not a string");
      }
    }
    return new AnswerRecord(
        n.get("id").asText(),
        Capability.fromQuestionType(n.get("capability").asText())
            .orElseThrow(() -> new IllegalArgumentException("unknown capability")),
        n.path("question_type").isNull() ? null : n.path("question_type").asText(null),
        QuestionForm.valueOf(n.get("form").asText().toUpperCase(java.util.Locale.ROOT)),
        n.get("question").asText(),
        n.get("reference").asText(),
        n.get("answer").asText(),
        n.path("new_tokens").asInt(),
        n.path("stopped").asBoolean(),
        n.path("seconds").asDouble());
  }
}
