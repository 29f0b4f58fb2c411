package dev.drivekd.core.train.checkpoint;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.engine.ComputeDevice;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What made a run, so that its checkpoints and metrics can be traced and the run reproduced: the
 * recipe as JSON (whatever the trainer's configuration serialises to), the seeds, the versions of
 * drivekd, DJL, libtorch and Java, and the SHA-256 of every dataset file with their combined {@link
 * DataFingerprint}.
 *
 * @param recipe the training recipe (JSON null when none is given)
 * @param seeds every seed by purpose, e.g. {@code data-order}, {@code agp-stage2}
 * @param versions {@code drivekd}, {@code djl}, {@code libtorch}, {@code java}
 * @param dataFiles dataset file (as given) to its SHA-256
 * @param dataFingerprint {@link DataFingerprint#of} of the dataset files, in order
 * @param createdAt ISO-8601 instant at which the provenance was captured
 */
public record RunProvenance(
    JsonNode recipe,
    Map<String, Long> seeds,
    Map<String, String> versions,
    Map<String, String> dataFiles,
    String dataFingerprint,
    String createdAt) {

  /** Ordered defensive copies; a null recipe becomes JSON null. */
  public RunProvenance {
    recipe = recipe == null ? NullNode.getInstance() : recipe.deepCopy();
    seeds = copy(seeds);
    versions = copy(versions);
    dataFiles = copy(dataFiles);
  }

  /**
   * Captures the provenance of a run now: hashes the dataset files and reads the versions (this
   * starts the PyTorch engine, offline, to ask libtorch's version).
   *
   * @param recipe the recipe as JSON
   * @param seeds the seeds by purpose
   * @param datasetFiles the dataset files, at least one
   */
  public static RunProvenance capture(
      JsonNode recipe, Map<String, Long> seeds, List<Path> datasetFiles) {
    Map<String, String> files = new LinkedHashMap<>();
    for (Path file : datasetFiles) {
      files.put(file.toString(), DataFingerprint.sha256(file));
    }
    return new RunProvenance(
        recipe,
        seeds,
        currentVersions(),
        files,
        DataFingerprint.of(datasetFiles),
        Instant.now().toString());
  }

  /** The versions of drivekd, DJL, libtorch (the engine's) and Java in this process. */
  public static Map<String, String> currentVersions() {
    Map<String, String> versions = new LinkedHashMap<>();
    versions.put("drivekd", drivekdVersion());
    versions.put("djl", Engine.getDjlVersion());
    String libtorch;
    try {
      libtorch = ComputeDevice.engine().getVersion();
    } catch (RuntimeException e) {
      libtorch = "unavailable: " + e.getMessage();
    }
    versions.put("libtorch", libtorch);
    versions.put("java", System.getProperty("java.version"));
    return versions;
  }

  /** drivekd's version as the build recorded it ({@code unknown} outside a Maven build). */
  public static String drivekdVersion() {
    try (InputStream in =
        RunProvenance.class.getResourceAsStream("/dev/drivekd/core/drivekd-version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      properties.load(in);
      String version = properties.getProperty("version", "unknown");
      return version.startsWith("${") ? "unknown" : version;
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static <V> Map<String, V> copy(Map<String, V> map) {
    return map == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
