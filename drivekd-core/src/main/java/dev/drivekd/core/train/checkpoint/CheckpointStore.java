package dev.drivekd.core.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.train.optimizer.AdamWState;
import dev.drivekd.core.train.schedule.AccumulationSchedule;
import dev.drivekd.core.train.weighting.LossWeightingState;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints of one run directory. A save writes every part into a temporary sibling folder,
 * fsyncs each file, writes {@code manifest.json} (format version, every file's size and SHA-256)
 * last, renames the folder atomically to {@code step-NNNNNN} (the optimizer step, at least six
 * digits) and then replaces the {@code latest} pointer file atomically. A crash or an exception at
 * any point leaves the previous checkpoints and {@code latest} as they were; {@code latest} is the
 * commit point, so a complete folder it does not name yet is not used by {@link #latestValid}.
 *
 * <p>Loading verifies the manifest's format version and every file's size and SHA-256 before it
 * parses anything, and fails with a {@link CheckpointException} naming the file. {@link
 * #latestValid} falls back from an unusable newest checkpoint to the previous one, with a warning.
 * A run bounds its own disk use: by default a save removes all but the {@value #DEFAULT_KEEP_LAST}
 * newest checkpoints at or below its step ({@code optKeepLast}), keeping in addition every
 * checkpoint whose step is a multiple of {@code optKeepEvery(N)} when set; {@code optKeepAll()}
 * keeps every one. One process writes a run directory at a time.
 */
public final class CheckpointStore {

  /** The pointer file naming the newest committed checkpoint. */
  public static final String LATEST = "latest";

  static final String COUNTERS = "counters";
  static final String WEIGHTS = "student-weights";
  static final String OPTIMIZER = "optimizer";
  static final String LOSS_WEIGHTING = "loss-weighting";
  static final String ACCUMULATION = "accumulation";
  static final String RANDOM = "random-states";
  static final String PROVENANCE = "provenance";

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
  private static final Pattern NAME = Pattern.compile("step-(\\d{6,})");
  private static final String TEMP_PREFIX = ".tmp-";
  private static final String TRASH_PREFIX = ".trash-";
  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

  /** Checkpoints a store keeps unless told otherwise. */
  public static final int DEFAULT_KEEP_LAST = 3;

  private final Path directory;
  private final int keepLast;
  private final long keepEvery;
  private boolean retentionLogged;
  private final TensorCodec codec;
  private final Map<String, TensorCodec> codecs = new LinkedHashMap<>();

  private CheckpointStore(Builder builder) {
    this.directory = builder.directory.toAbsolutePath().normalize();
    this.keepLast = builder.keepLast;
    this.keepEvery = builder.keepEvery;
    this.codec = builder.codec;
    codecs.put(TensorFile.FORMAT, TensorFile.codec());
    for (TensorCodec c : builder.readers) {
      codecs.put(c.format(), c);
    }
    codecs.put(codec.format(), codec);
  }

  /** A builder for the run directory {@code directory} (created at the first save). */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  /**
   * A store with the defaults: keep the {@value #DEFAULT_KEEP_LAST} newest checkpoints, weights in
   * {@link TensorFile}.
   */
  public static CheckpointStore open(Path directory) {
    return builder(directory).build();
  }

  /** The run directory. */
  public Path directory() {
    return directory;
  }

  /** What a save keeps, in words: {@code "the 3 newest checkpoints and every 500th step"}. */
  public String retention() {
    if (keepLast == 0) {
      return "every checkpoint";
    }
    String newest =
        keepLast == 1 ? "the newest checkpoint" : "the " + keepLast + " newest checkpoints";
    return keepEvery > 0
        ? newest + " and every checkpoint at a multiple of " + keepEvery + " steps"
        : newest;
  }

  /** The folder name of a checkpoint at {@code optimizerStep}: {@code step-} and 6+ digits. */
  public static String folderName(long optimizerStep) {
    return String.format("step-%06d", optimizerStep);
  }

  // ---------------------------------------------------------------------------------- save

  /**
   * Saves {@code checkpoint} as {@code step-NNNNNN} (its optimizer step) and makes it the latest.
   * An existing folder of that name is renamed to {@code step-NNNNNN.superseded-...} first, never
   * deleted.
   *
   * @return the new checkpoint folder
   * @throws CheckpointException when any part cannot be written; the run directory then holds
   *     exactly what it held before (apart from a removed temporary folder)
   */
  public Path save(Checkpoint checkpoint) {
    String name = folderName(checkpoint.counters().optimizerStep());
    Path temp = directory.resolve(TEMP_PREFIX + name + "-" + UUID.randomUUID());
    Path target = directory.resolve(name);
    try {
      Files.createDirectories(directory);
      removeLeftovers();
      Files.createDirectory(temp);
      List<CheckpointManifest.Part> parts = writeParts(temp, checkpoint);
      CheckpointManifest manifest =
          new CheckpointManifest(
              CheckpointManifest.FORMAT,
              CheckpointManifest.VERSION,
              name,
              Instant.now().toString(),
              checkpoint.counters(),
              parts);
      try (ChecksummedOutput out =
          ChecksummedOutput.create(temp.resolve(CheckpointManifest.FILE_NAME))) {
        JSON.writeValue(out.stream(), manifest);
        out.finish();
      }
      DurableFiles.syncDirectory(temp);
    } catch (IOException | RuntimeException e) {
      discard(temp);
      throw new CheckpointException(
          target, "save failed, nothing changed in the run directory (" + describe(e) + ")", e);
    }
    Path aside = null;
    try {
      if (Files.exists(target)) {
        aside = directory.resolve(name + ".superseded-" + UUID.randomUUID());
        LOG.warn("{} already exists; keeping it as {}", target, aside.getFileName());
        DurableFiles.moveAtomically(target, aside, false);
      }
      DurableFiles.moveAtomically(temp, target, false);
    } catch (IOException | RuntimeException e) {
      discard(temp);
      restoreAside(aside, target);
      throw new CheckpointException(
          target, "save failed at the rename; `latest` is unchanged (" + describe(e) + ")", e);
    }
    try {
      DurableFiles.writeAtomically(
          directory.resolve(LATEST), (name + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(
          directory.resolve(LATEST),
          name + " was written but `latest` could not be updated (" + describe(e) + ")",
          e);
    }
    LOG.debug("saved checkpoint {}", target);
    applyRetention(checkpoint.counters().optimizerStep());
    return target;
  }

  private List<CheckpointManifest.Part> writeParts(Path dir, Checkpoint c) throws IOException {
    List<CheckpointManifest.Part> parts = new ArrayList<>();
    parts.add(writeJson(dir, COUNTERS, "counters.json", c.counters()));
    parts.add(
        writePart(
            dir,
            WEIGHTS,
            codec.fileName(),
            codec.format(),
            out -> codec.write(c.studentWeights(), out)));
    if (c.optimizer().isPresent()) {
      AdamWState state = c.optimizer().get();
      parts.add(writePart(dir, OPTIMIZER, "optimizer.adamw", "drivekd-adamw/1", state::write));
    }
    if (c.lossWeighting().isPresent()) {
      parts.add(writeJson(dir, LOSS_WEIGHTING, "loss-weighting.json", c.lossWeighting().get()));
    }
    if (c.accumulation().isPresent()) {
      parts.add(writeJson(dir, ACCUMULATION, "accumulation.json", c.accumulation().get()));
    }
    parts.add(writeJson(dir, RANDOM, "random-states.json", c.randomStates()));
    parts.add(writeJson(dir, PROVENANCE, "provenance.json", c.provenance()));
    return parts;
  }

  private static CheckpointManifest.Part writeJson(Path dir, String part, String file, Object value)
      throws IOException {
    return writePart(dir, part, file, "json", out -> JSON.writeValue(out, value));
  }

  private static CheckpointManifest.Part writePart(
      Path dir, String part, String file, String format, PartWriter writer) throws IOException {
    try (ChecksummedOutput out = ChecksummedOutput.create(dir.resolve(file))) {
      writer.write(out.stream());
      FileDigest digest = out.finish();
      return new CheckpointManifest.Part(part, file, format, digest.size(), digest.sha256());
    }
  }

  /** Writes one part to a stream. */
  @FunctionalInterface
  private interface PartWriter {
    void write(OutputStream out) throws IOException;
  }

  private void applyRetention(long savedStep) {
    List<StoredCheckpoint> all = list();
    List<String> newer = new ArrayList<>();
    List<StoredCheckpoint> older = new ArrayList<>();
    for (StoredCheckpoint s : all) {
      if (s.optimizerStep() > savedStep) {
        newer.add(s.name());
      } else {
        older.add(s);
      }
    }
    if (!newer.isEmpty()) {
      LOG.warn(
          "{} holds checkpoints newer than the one just saved ({}): {}; they are kept, but"
              + " `latest` now names {}",
          directory,
          folderName(savedStep),
          newer,
          folderName(savedStep));
    }
    if (!retentionLogged) {
      LOG.info("checkpoints in {}: keeping {}", directory, retention());
      retentionLogged = true;
    }
    if (keepLast <= 0 || older.size() <= keepLast) {
      return;
    }
    for (StoredCheckpoint s : older.subList(0, older.size() - keepLast)) {
      if (keepEvery > 0 && s.optimizerStep() % keepEvery == 0) {
        continue;
      }
      Path trash = directory.resolve(TRASH_PREFIX + s.name() + "-" + UUID.randomUUID());
      try {
        DurableFiles.moveAtomically(s.directory(), trash, false);
        DurableFiles.deleteRecursively(trash);
        LOG.debug("retention removed {}", s.name());
      } catch (IOException e) {
        LOG.warn("retention could not remove {}: {}", s.directory(), e.toString());
      }
    }
  }

  private void removeLeftovers() throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        String file = entry.getFileName().toString();
        if (Files.isDirectory(entry)
            && (file.startsWith(TEMP_PREFIX) || file.startsWith(TRASH_PREFIX))) {
          if (file.startsWith(TEMP_PREFIX)) {
            LOG.warn("removing {}, left by a save that did not finish", entry);
          }
          DurableFiles.deleteRecursively(entry);
        }
      }
    }
  }

  private static void restoreAside(Path aside, Path target) {
    if (aside != null && Files.exists(aside) && !Files.exists(target)) {
      try {
        DurableFiles.moveAtomically(aside, target, false);
      } catch (IOException e) {
        LOG.warn("could not move {} back to {}: {}", aside, target, e.toString());
      }
    }
  }

  private static void discard(Path temp) {
    try {
      DurableFiles.deleteRecursively(temp);
    } catch (IOException e) {
      LOG.warn("could not remove the temporary folder {}: {}", temp, e.toString());
    }
  }

  // ---------------------------------------------------------------------------------- read

  /** The checkpoint folders, by ascending optimizer step (temporary and other folders excluded). */
  public List<StoredCheckpoint> list() {
    List<StoredCheckpoint> out = new ArrayList<>();
    if (!Files.isDirectory(directory)) {
      return out;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        Matcher m = NAME.matcher(entry.getFileName().toString());
        if (m.matches() && Files.isDirectory(entry)) {
          out.add(new StoredCheckpoint(m.group(0), Long.parseLong(m.group(1)), entry));
        }
      }
    } catch (IOException e) {
      throw new CheckpointException(directory, "cannot list the run directory", e);
    }
    out.sort(Comparator.comparingLong(StoredCheckpoint::optimizerStep));
    return out;
  }

  /** The name in the {@code latest} pointer, if there is one. */
  public Optional<String> latestName() {
    Path pointer = directory.resolve(LATEST);
    String name;
    try {
      name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new CheckpointException(pointer, "cannot be read", e);
    }
    if (!NAME.matcher(name).matches()) {
      throw new CheckpointException(
          pointer, "does not name a checkpoint folder (step-NNNNNN): '" + name + "'", null);
    }
    return Optional.of(name);
  }

  /**
   * Loads the checkpoint {@code latest} names.
   *
   * @throws CheckpointException when there is none, or it is incomplete or corrupt
   */
  public Checkpoint loadLatest(NDManager manager) {
    String name =
        latestName()
            .orElseThrow(
                () ->
                    new CheckpointException(
                        directory.resolve(LATEST), "missing: no checkpoint was committed", null));
    return load(name, manager);
  }

  /**
   * The newest usable checkpoint: the one {@code latest} names or, when it is incomplete or
   * corrupt, the newest older one that loads (each fallback is logged as a warning).
   *
   * @return empty when the run directory holds no checkpoint at all
   * @throws CheckpointException when checkpoints exist but none of them loads
   */
  public Optional<Checkpoint> latestValid(NDManager manager) {
    List<StoredCheckpoint> all = list();
    List<String> order = new ArrayList<>();
    long limit = Long.MAX_VALUE;
    try {
      Optional<String> pointer = latestName();
      if (pointer.isPresent()) {
        order.add(pointer.get());
        Matcher m = NAME.matcher(pointer.get());
        m.matches();
        limit = Long.parseLong(m.group(1));
      }
    } catch (CheckpointException e) {
      LOG.warn("ignoring the pointer: {}", e.getMessage());
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      if (all.get(i).optimizerStep() < limit) {
        order.add(all.get(i).name());
      }
    }
    if (order.isEmpty()) {
      return Optional.empty();
    }
    List<String> failures = new ArrayList<>();
    for (String name : order) {
      try {
        Checkpoint c = load(name, manager);
        if (!failures.isEmpty()) {
          LOG.warn("resuming from {}; newer checkpoints are unusable: {}", name, failures);
        }
        return Optional.of(c);
      } catch (CheckpointException e) {
        LOG.warn("checkpoint {} is unusable, trying the previous one: {}", name, e.getMessage());
        failures.add(e.getMessage());
      }
    }
    throw new CheckpointException(
        directory, "no usable checkpoint among " + order + ": " + failures, null);
  }

  /**
   * Verifies a checkpoint folder without loading any array: the manifest's format and version and
   * every listed file's size and SHA-256.
   *
   * @return the manifest
   * @throws CheckpointException naming the first file that fails
   */
  public CheckpointManifest verify(String name) {
    Path dir = checkpointDir(name);
    CheckpointManifest manifest = readManifest(dir);
    for (CheckpointManifest.Part part : manifest.files()) {
      part.digest().verify(partFile(dir, part));
    }
    for (String required : List.of(COUNTERS, WEIGHTS, PROVENANCE)) {
      if (manifest.find(required) == null) {
        throw new CheckpointException(
            dir.resolve(CheckpointManifest.FILE_NAME),
            "files",
            "no '" + required + "' part listed",
            null);
      }
    }
    return manifest;
  }

  /**
   * Loads checkpoint {@code name} after {@link #verify}ing it; its arrays are created in {@code
   * manager}. On any failure no array is left behind.
   */
  public Checkpoint load(String name, NDManager manager) {
    CheckpointManifest manifest = verify(name);
    Path dir = checkpointDir(name);
    StepCounters counters = readJson(dir, manifest, COUNTERS, StepCounters.class);
    if (!counters.equals(manifest.counters())) {
      throw new CheckpointException(
          dir.resolve("counters.json"),
          "disagrees with the manifest: " + counters + " vs " + manifest.counters(),
          null);
    }
    Checkpoint.Builder builder =
        Checkpoint.builder()
            .setCounters(counters)
            .setProvenance(readJson(dir, manifest, PROVENANCE, RunProvenance.class));
    CheckpointManifest.Part random = manifest.find(RANDOM);
    if (random != null) {
      builder.optRandomStates(readJson(dir, manifest, RANDOM, RandomStates.class));
    }
    if (manifest.find(LOSS_WEIGHTING) != null) {
      builder.optLossWeighting(readJson(dir, manifest, LOSS_WEIGHTING, LossWeightingState.class));
    }
    if (manifest.find(ACCUMULATION) != null) {
      builder.optAccumulation(
          readJson(dir, manifest, ACCUMULATION, AccumulationSchedule.State.class));
    }
    // Arrays are made in a sub-manager and handed to the caller's only when everything loaded.
    NDManager scratch = manager.newSubManager();
    try {
      CheckpointManifest.Part weights = manifest.find(WEIGHTS);
      TensorCodec reader = codecs.get(weights.format());
      if (reader == null) {
        throw new CheckpointException(
            partFile(dir, weights),
            "weights in format '"
                + weights.format()
                + "', which this store cannot read (known: "
                + codecs.keySet()
                + ")",
            null);
      }
      Map<String, NDArray> tensors = reader.read(partFile(dir, weights), scratch);
      builder.setStudentWeights(tensors);
      CheckpointManifest.Part optimizer = manifest.find(OPTIMIZER);
      AdamWState adam = null;
      if (optimizer != null) {
        Path file = partFile(dir, optimizer);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
          adam = AdamWState.read(in, scratch);
        } catch (IOException | RuntimeException e) {
          throw new CheckpointException(file, "not a readable AdamW state: " + describe(e), e);
        }
        builder.optOptimizer(adam);
      }
      tensors.values().forEach(a -> a.attach(manager));
      if (adam != null) {
        for (AdamWState.ParameterState p : adam.parameters().values()) {
          p.expAvg().attach(manager);
          p.expAvgSq().attach(manager);
        }
      }
    } finally {
      scratch.close();
    }
    return builder.build();
  }

  private Path checkpointDir(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a checkpoint folder name (step-NNNNNN): " + name);
    }
    Path dir = directory.resolve(name);
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(dir, "no such checkpoint folder", null);
    }
    return dir;
  }

  private static CheckpointManifest readManifest(Path dir) {
    Path file = dir.resolve(CheckpointManifest.FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException(
          file, "missing: the checkpoint is incomplete (the manifest is written last)", null);
    }
    CheckpointManifest manifest;
    try {
      try (java.io.InputStream in = Files.newInputStream(file)) {
        manifest = JSON.readValue(in, CheckpointManifest.class);
      }
    } catch (IOException e) {
      throw new CheckpointException(file, "not a readable manifest: " + describe(e), e);
    }
    if (!CheckpointManifest.FORMAT.equals(manifest.format())) {
      throw new CheckpointException(
          file,
          "format",
          "'" + manifest.format() + "', expected '" + CheckpointManifest.FORMAT + "'",
          null);
    }
    if (manifest.version() != CheckpointManifest.VERSION) {
      throw new CheckpointException(
          file,
          "version",
          "checkpoint format version "
              + manifest.version()
              + ", this build reads version "
              + CheckpointManifest.VERSION,
          null);
    }
    if (!dir.getFileName().toString().equals(manifest.name())) {
      throw new CheckpointException(
          file, "name", "'" + manifest.name() + "', but the folder is " + dir.getFileName(), null);
    }
    return manifest;
  }

  private static Path partFile(Path dir, CheckpointManifest.Part part) {
    Path file = dir.resolve(part.file()).normalize();
    if (!dir.equals(file.getParent())) {
      throw new CheckpointException(
          dir.resolve(CheckpointManifest.FILE_NAME),
          "files",
          "part '" + part.part() + "' points outside its folder: " + part.file(),
          null);
    }
    return file;
  }

  private static <T> T readJson(Path dir, CheckpointManifest manifest, String part, Class<T> type) {
    Path file = partFile(dir, manifest.find(part));
    try {
      try (java.io.InputStream in = Files.newInputStream(file)) {
        return JSON.readValue(in, type);
      }
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(file, "not a readable " + part + " record: " + describe(e), e);
    }
  }

  private static String describe(Throwable e) {
    if (e instanceof JsonProcessingException) {
      return ((JsonProcessingException) e).getOriginalMessage()
          + " at "
          + ((JsonProcessingException) e).getLocation();
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** Builder: the run directory is required; the rest is optional. */
  public static final class Builder {
    private final Path directory;
    private int keepLast = DEFAULT_KEEP_LAST;
    private long keepEvery;
    private TensorCodec codec = TensorFile.codec();
    private final List<TensorCodec> readers = new ArrayList<>();

    private Builder(Path directory) {
      if (directory == null) {
        throw new IllegalArgumentException("the run directory must not be null");
      }
      this.directory = directory;
    }

    /**
     * Keeps the {@code k} newest checkpoints (default {@value #DEFAULT_KEEP_LAST}); {@code 0} keeps
     * every one, as {@link #optKeepAll()}.
     */
    public Builder optKeepLast(int k) {
      if (k < 0) {
        throw new IllegalArgumentException("keepLast must be >= 0, got " + k);
      }
      this.keepLast = k;
      return this;
    }

    /**
     * Keeps, besides the newest ones, every checkpoint whose optimizer step is a multiple of {@code
     * n} (milestones to go back to); {@code 0} (the default) keeps none beyond the newest.
     */
    public Builder optKeepEvery(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("keepEvery must be >= 0, got " + n);
      }
      this.keepEvery = n;
      return this;
    }

    /** Keeps every checkpoint: the run's disk use grows with its length. */
    public Builder optKeepAll() {
      this.keepLast = 0;
      return this;
    }

    /** The format student weights are written in ({@link TensorFile} by default). */
    public Builder optTensorCodec(TensorCodec codec) {
      if (codec == null) {
        throw new IllegalArgumentException("codec must not be null");
      }
      this.codec = codec;
      return this;
    }

    /** Another format this store can read weights in (the write codec is always readable). */
    public Builder addReadableCodec(TensorCodec codec) {
      readers.add(codec);
      return this;
    }

    /** Builds the store. */
    public CheckpointStore build() {
      return new CheckpointStore(this);
    }
  }
}
