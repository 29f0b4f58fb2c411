package dev.drivekd.eval.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.DataFingerprint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Judge replies on disk, one small JSON file per prompt, keyed by the SHA-256 of everything that
 * decides the reply (judge model, temperature, reply limit, both messages), so a rerun of the same
 * evaluation makes no request. Files are written to a temporary name and moved into place; an
 * unreadable entry is logged and treated as missing.
 */
public final class JudgeCache {

  private static final Logger LOG = LoggerFactory.getLogger(JudgeCache.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;

  /** A cache in {@code dir} (created when needed). */
  public JudgeCache(Path dir) {
    this.dir = dir;
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** The key of a prompt sent to {@code endpoint}. */
  public static String key(JudgeEndpoint endpoint, JudgePrompt prompt) {
    String identity =
        "drivekd-judge/1\n"
            + endpoint.model()
            + "\n"
            + endpoint.temperature()
            + "\n"
            + endpoint.maxTokens()
            + "\n"
            + prompt.system()
            + "\u0000"
            + prompt.user();
    return DataFingerprint.sha256(identity.getBytes(StandardCharsets.UTF_8));
  }

  /** The cached reply of {@code key}, if any. */
  public Optional<String> get(String key) {
    Path file = file(key);
    try {
      JsonNode node = JSON.readTree(Files.readAllBytes(file));
      JsonNode reply = node == null ? null : node.get("reply");
      if (reply == null || !reply.isTextual()) {
        LOG.warn("judge cache entry {} has no reply; it will be asked again", file);
        return Optional.empty();
      }
      return Optional.of(reply.asText());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      LOG.warn(
          "judge cache entry {} is unreadable ({}); it will be asked again", file, e.getMessage());
      return Optional.empty();
    }
  }

  /** Stores {@code reply} under {@code key}, atomically. */
  public void put(String key, String model, String reply) {
    Path file = file(key);
    try {
      Files.createDirectories(file.getParent());
      ObjectNode node = JSON.createObjectNode();
      node.put("model", model);
      node.put("reply", reply);
      Path tmp = Files.createTempFile(file.getParent(), key.substring(0, 8), ".tmp");
      try {
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node));
        try {
          Files.move(
              tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write judge cache entry " + file, e);
    }
  }

  private Path file(String key) {
    return dir.resolve(key.substring(0, 2)).resolve(key + ".json");
  }
}
