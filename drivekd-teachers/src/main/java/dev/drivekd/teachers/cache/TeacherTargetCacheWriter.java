package dev.drivekd.teachers.cache;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.train.checkpoint.ChecksummedOutput;
import dev.drivekd.core.train.checkpoint.DurableFiles;
import dev.drivekd.core.train.checkpoint.FileDigest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a teacher-target cache: samples are appended (in any order, each index once) and streamed
 * into chunk files of at most {@code samplesPerChunk} samples and {@code maxChunkBytes} bytes;
 * {@link #finish()} fsyncs the last chunk and writes {@code index.json} atomically. Until then the
 * folder holds no index and no reader accepts it. Memory use is one sample's targets.
 */
public final class TeacherTargetCacheWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TeacherTargetCacheWriter.class);
  // Unknown fields are ignored so that a newer index is refused by its version, with a message
  // that says so, rather than by the parser.
  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path directory;
  private final CacheRecipe recipe;
  private final String datasetFingerprint;
  private final int samplesPerChunk;
  private final long maxChunkBytes;
  private final CachedPanel panel;
  private final int firstChunk;

  private final List<CacheIndex.Chunk> chunks = new ArrayList<>();
  private final Set<Integer> written = new HashSet<>();
  private ChecksummedOutput chunk;
  private final List<Integer> chunkSamples = new ArrayList<>();
  private final List<long[]> chunkDirectory = new ArrayList<>();
  private boolean finished;
  private boolean failed;

  private TeacherTargetCacheWriter(Builder b) throws IOException {
    this.directory = b.directory.toAbsolutePath().normalize();
    this.recipe = b.recipe;
    this.datasetFingerprint = b.datasetFingerprint;
    this.samplesPerChunk = b.samplesPerChunk;
    this.maxChunkBytes = b.maxChunkBytes;
    this.panel = b.panel;
    this.firstChunk = b.firstChunk;
    if (panel != null) {
      panel.requireConsistent(recipe);
    }
    Files.createDirectories(directory);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      if (entries.iterator().hasNext()) {
        throw new TeacherCacheException(
            directory,
            null,
            "a new cache needs an empty folder (this one holds files; a finished cache is never"
                + " overwritten)",
            null);
      }
    }
  }

  /** A builder for a cache in {@code directory} (created if needed; it must be empty). */
  public static Builder builder(Path directory, CacheRecipe recipe, String datasetFingerprint) {
    return new Builder(directory, recipe, datasetFingerprint);
  }

  /**
   * Appends one sample. Every target must be an entry of the recipe, of the entry's kind, and have
   * the shape its kind has for the sample's layout; each entry at most once.
   *
   * @throws IllegalArgumentException naming the sample and the target when a check fails
   * @throws TeacherCacheException when writing fails (the writer is then unusable)
   */
  public void append(SampleTargets sample) {
    if (finished || failed) {
      throw new IllegalStateException("the cache writer is " + (finished ? "finished" : "failed"));
    }
    int index = sample.sampleIndex();
    if (written.contains(index)) {
      throw new IllegalArgumentException("sample " + index + " was already appended");
    }
    int[] ids = new int[sample.targets().size()];
    Set<Integer> seen = new HashSet<>();
    long bytes = ChunkFormat.SAMPLE_HEAD_BYTES;
    for (int k = 0; k < ids.length; k++) {
      CachedTarget t = sample.targets().get(k);
      int id = recipe.indexOf(t.key());
      String where = "sample " + index + ", target " + t.key();
      if (id < 0) {
        throw new IllegalArgumentException(where + ": not an entry of the cache's recipe");
      }
      if (!seen.add(id)) {
        throw new IllegalArgumentException(where + ": given twice");
      }
      CacheRecipe.Entry entry = recipe.entries().get(id);
      if (entry.kind() != t.kind()) {
        throw new IllegalArgumentException(
            where + ": the recipe stores " + entry.kind() + ", got " + t.kind());
      }
      int[] shape = sample.expectedShape(t.kind());
      if (t.rows() != shape[0] || t.cols() != shape[1]) {
        throw new IllegalArgumentException(
            where
                + ": "
                + t.rows()
                + " x "
                + t.cols()
                + " does not fit the sample's layout ("
                + shape[0]
                + " x "
                + shape[1]
                + " for "
                + t.kind()
                + ")");
      }
      ids[k] = id;
      bytes += ChunkFormat.ENTRY_HEAD_BYTES + 4L * t.values().length;
    }
    if (bytes
            + ChunkFormat.HEADER_BYTES
            + ChunkFormat.TRAILER_BYTES
            + ChunkFormat.DIRECTORY_ENTRY_BYTES
        > maxChunkBytes) {
      throw new IllegalArgumentException(
          "sample "
              + index
              + ": "
              + bytes
              + " bytes of targets exceed the chunk limit of "
              + maxChunkBytes
              + " bytes");
    }
    try {
      if (chunk != null
          && (chunkSamples.size() >= samplesPerChunk
              || chunk.position() + bytes + directoryBytes(chunkSamples.size() + 1)
                  > maxChunkBytes)) {
        closeChunk();
      }
      if (chunk == null) {
        openChunk();
      }
      long offset = chunk.position();
      writeSample(chunk.stream(), sample, ids);
      chunkSamples.add(index);
      chunkDirectory.add(new long[] {index, offset, chunk.position() - offset});
      written.add(index);
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw new TeacherCacheException(
          chunk == null ? directory : chunk.file(),
          "sample " + index,
          "cannot be written: " + e.getMessage(),
          e);
    }
  }

  private static long directoryBytes(int samples) {
    return (long) samples * ChunkFormat.DIRECTORY_ENTRY_BYTES + ChunkFormat.TRAILER_BYTES;
  }

  private static void writeSample(OutputStream out, SampleTargets sample, int[] ids)
      throws IOException {
    ByteBuffer head =
        ByteBuffer.allocate(ChunkFormat.SAMPLE_HEAD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(sample.sampleIndex());
    head.put(HexFormat.of().parseHex(sample.layoutFingerprint()));
    head.putInt(ids.length);
    out.write(head.array());
    byte[] buffer = new byte[1 << 16];
    for (int k = 0; k < ids.length; k++) {
      CachedTarget t = sample.targets().get(k);
      ByteBuffer entry =
          ByteBuffer.allocate(ChunkFormat.ENTRY_HEAD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      entry.putInt(ids[k]).putInt(t.rows()).putInt(t.cols());
      out.write(entry.array());
      float[] v = t.values();
      ByteBuffer data = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < v.length; i++) {
        if (!data.hasRemaining()) {
          out.write(buffer, 0, data.position());
          data.clear();
        }
        data.putFloat(v[i]);
      }
      out.write(buffer, 0, data.position());
    }
  }

  private void openChunk() throws IOException {
    int number = firstChunk + chunks.size();
    Path file = directory.resolve(ChunkFormat.fileName(number));
    chunk = ChecksummedOutput.create(file);
    ByteBuffer head = ByteBuffer.allocate(ChunkFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    head.put(ChunkFormat.MAGIC).putInt(ChunkFormat.VERSION).putInt(number);
    chunk.stream().write(head.array());
  }

  private void closeChunk() throws IOException {
    long directoryOffset = chunk.position();
    ByteBuffer dir =
        ByteBuffer.allocate(
                chunkDirectory.size() * ChunkFormat.DIRECTORY_ENTRY_BYTES
                    + ChunkFormat.TRAILER_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    for (long[] d : chunkDirectory) {
      dir.putInt((int) d[0]).putLong(d[1]).putLong(d[2]);
    }
    dir.putInt(chunkDirectory.size()).putLong(directoryOffset).put(ChunkFormat.TAIL);
    chunk.stream().write(dir.array());
    FileDigest digest = chunk.finish();
    chunks.add(
        new CacheIndex.Chunk(
            chunk.file().getFileName().toString(), digest.size(), digest.sha256(), chunkSamples));
    chunk = null;
    chunkSamples.clear();
    chunkDirectory.clear();
  }

  /**
   * Closes the last chunk and writes {@code index.json} atomically; the cache is then readable.
   *
   * @return the index written
   */
  public CacheIndex finish() {
    if (finished || failed) {
      throw new IllegalStateException("the cache writer is " + (finished ? "finished" : "failed"));
    }
    try {
      if (chunk != null) {
        closeChunk();
      }
    } catch (IOException e) {
      failed = true;
      throw new TeacherCacheException(directory, null, "cannot finish the cache: " + e, e);
    }
    try {
      CacheIndex index = writeIndex(directory, recipe, datasetFingerprint, panel, chunks);
      finished = true;
      return index;
    } catch (RuntimeException e) {
      failed = true;
      throw e;
    }
  }

  /**
   * Closes the last chunk (fsynced) without writing an index: this writer made one shard of a cache
   * that several writers fill (numbered from {@link Builder#optFirstChunk}); {@link #writeIndex}
   * later lists the shards' chunks.
   *
   * @return the chunks written, in order
   */
  public List<CacheIndex.Chunk> finishShard() {
    if (finished || failed) {
      throw new IllegalStateException("the cache writer is " + (finished ? "finished" : "failed"));
    }
    try {
      if (chunk != null) {
        closeChunk();
      }
      finished = true;
      return List.copyOf(chunks);
    } catch (IOException e) {
      failed = true;
      throw new TeacherCacheException(directory, null, "cannot finish the shard: " + e, e);
    }
  }

  /**
   * Writes {@code index.json} atomically into {@code directory} for chunks already there (the
   * shards' chunks, moved in): the cache becomes readable.
   *
   * @throws IllegalArgumentException when a sample is listed twice or a chunk file is missing
   */
  public static CacheIndex writeIndex(
      Path directory,
      CacheRecipe recipe,
      String datasetFingerprint,
      CachedPanel panel,
      List<CacheIndex.Chunk> chunks) {
    Set<Integer> samples = new HashSet<>();
    Set<String> files = new HashSet<>();
    for (CacheIndex.Chunk c : chunks) {
      if (!files.add(c.file())) {
        throw new IllegalArgumentException("chunk file " + c.file() + " is listed twice");
      }
      if (!Files.isRegularFile(directory.resolve(c.file()))) {
        throw new IllegalArgumentException(
            "chunk file " + directory.resolve(c.file()) + " is missing");
      }
      for (int sample : c.samples()) {
        if (!samples.add(sample)) {
          throw new IllegalArgumentException(
              "sample " + sample + " is listed twice (again in " + c.file() + ")");
        }
      }
    }
    if (panel != null) {
      panel.requireConsistent(recipe);
    }
    Path indexFile = directory.resolve(CacheIndex.FILE_NAME);
    CacheIndex index =
        new CacheIndex(
            CacheIndex.FORMAT,
            CacheIndex.VERSION,
            "float32",
            datasetFingerprint,
            recipe,
            panel,
            samples.size(),
            chunks);
    try {
      DurableFiles.writeAtomically(indexFile, JSON.writeValueAsBytes(index));
    } catch (IOException e) {
      throw new TeacherCacheException(indexFile, null, "cannot write the index: " + e, e);
    }
    return index;
  }

  /** The chunk file name of chunk number {@code n} ({@code chunk-NNNNNN.dktc}). */
  public static String chunkFileName(int n) {
    return ChunkFormat.fileName(n);
  }

  /** Abandons an unfinished cache (its folder then holds no index); a finished one is unchanged. */
  @Override
  public void close() {
    if (!finished && chunk != null) {
      try {
        chunk.close();
      } catch (IOException e) {
        LOG.warn("cannot close {}: {}", chunk.file(), e.toString());
      }
      chunk = null;
    }
    if (!finished && !written.isEmpty()) {
      LOG.warn(
          "teacher-target cache {} was not finished: it has no index and cannot be read",
          directory);
    }
  }

  /** Builder. */
  public static final class Builder {
    private final Path directory;
    private final CacheRecipe recipe;
    private final String datasetFingerprint;
    private int samplesPerChunk = 64;
    private long maxChunkBytes = 1L << 30;
    private CachedPanel panel;
    private int firstChunk;

    private Builder(Path directory, CacheRecipe recipe, String datasetFingerprint) {
      if (directory == null || recipe == null || datasetFingerprint == null) {
        throw new IllegalArgumentException(
            "directory, recipe and dataset fingerprint are required");
      }
      this.directory = directory;
      this.recipe = recipe;
      this.datasetFingerprint = datasetFingerprint;
    }

    /** Samples per chunk (64). */
    public Builder optSamplesPerChunk(int n) {
      this.samplesPerChunk = checkSamplesPerChunk(n);
      return this;
    }

    /** The largest chunk file in bytes (1 GiB; at most 2 GiB - 1, a reader maps whole chunks). */
    public Builder optMaxChunkBytes(long bytes) {
      this.maxChunkBytes = checkMaxChunkBytes(bytes);
      return this;
    }

    /**
     * Records the panel the targets come from (teacher cards, roles, the student's encoding), which
     * {@link CachedTeacherTargets} needs; without it the index has {@code "panel": null}.
     */
    public Builder optPanel(CachedPanel panel) {
      this.panel = panel;
      return this;
    }

    /**
     * Numbers this writer's chunks (file names and headers) from {@code n} instead of 0: a shard of
     * a cache written by several writers, whose chunks must not collide (default 0).
     */
    public Builder optFirstChunk(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("the first chunk number must be >= 0, got " + n);
      }
      this.firstChunk = n;
      return this;
    }

    /** Creates the writer. */
    public TeacherTargetCacheWriter create() {
      try {
        return new TeacherTargetCacheWriter(this);
      } catch (IOException e) {
        throw new TeacherCacheException(directory, null, "cannot create the cache folder", e);
      }
    }
  }

  /** Checks a samples-per-chunk option (at least 1). */
  static int checkSamplesPerChunk(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("samplesPerChunk must be >= 1, got " + n);
    }
    return n;
  }

  /** Checks a chunk size option: a reader maps whole chunks, so at most 2 GiB - 1. */
  static long checkMaxChunkBytes(long bytes) {
    if (bytes < 1024 || bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "maxChunkBytes must be in [1024, " + Integer.MAX_VALUE + "], got " + bytes);
    }
    return bytes;
  }
}
