package dev.drivekd.core.train.listener;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a run's metrics as JSON lines, flushed after every line, so the file can be followed while
 * training and survives a crash up to the last step. The file is appended to, never truncated: a
 * resumed run adds a new header and continues. Line types ({@code "type"} first):
 *
 * <ul>
 *   <li>{@code header}: {@code format} {@value #FORMAT}, {@code version}, the {@link TrainingBegin}
 *       fields (provenance: recipe, seeds, versions, data fingerprint; epochs; start counters);
 *   <li>{@code step}: every {@link StepReport} field;
 *   <li>{@code epoch}: every {@link EpochReport} field;
 *   <li>{@code end}: every {@link TrainingEnd} field.
 * </ul>
 *
 * Doubles are written in Java's shortest round-trip form, so they parse back exactly; NaN and
 * infinities are written as the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 * Write failures are thrown as {@link UncheckedIOException} naming the file.
 */
public final class MetricsFileListener implements DistillationListener, Closeable {

  /** The header's format name. */
  public static final String FORMAT = "drivekd-metrics";

  /** The header's format version. */
  public static final int VERSION = 1;

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

  private final Path file;
  private BufferedWriter writer;

  /** Metrics appended to {@code file} (created with its folders at the first line). */
  public MetricsFileListener(Path file) {
    this.file = file;
  }

  /** The metrics file. */
  public Path file() {
    return file;
  }

  @Override
  public void onTrainingBegin(TrainingBegin begin) {
    ObjectNode line = JSON.createObjectNode();
    line.put("type", "header").put("format", FORMAT).put("version", VERSION);
    line.setAll((ObjectNode) JSON.valueToTree(begin));
    write(line);
  }

  @Override
  public void onStep(StepReport report) {
    write(typed("step", report));
  }

  @Override
  public void onEpochEnd(EpochReport report) {
    write(typed("epoch", report));
  }

  @Override
  public void onTrainingEnd(TrainingEnd end) {
    write(typed("end", end));
    close();
  }

  private static ObjectNode typed(String type, Object record) {
    ObjectNode line = JSON.createObjectNode().put("type", type);
    line.setAll((ObjectNode) JSON.valueToTree(record));
    return line;
  }

  private synchronized void write(ObjectNode line) {
    try {
      if (writer == null) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        boolean torn = endsInsideALine(file);
        writer =
            Files.newBufferedWriter(
                file,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        if (torn) {
          // a process killed mid-line left part of a line: end it, so that it stays one
          // unreadable line instead of spoiling the first line of this run
          writer.write('\n');
        }
      }
      writer.write(JSON.writeValueAsString(line));
      writer.write('\n');
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot write the metrics line", e);
    }
  }

  private static boolean endsInsideALine(Path file) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) == 0) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(file)) {
      ByteBuffer last = ByteBuffer.allocate(1);
      channel.read(last, channel.size() - 1);
      return last.get(0) != '\n';
    }
  }

  /** Closes the file (the next line reopens it for appending). */
  @Override
  public synchronized void close() {
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": cannot close the metrics file", e);
      } finally {
        writer = null;
      }
    }
  }
}
