package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DataFingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads a teacher-target cache written by {@link TeacherTargetCacheWriter}: random access by sample
 * index, one chunk open at a time and one sample's record in memory at a time (positional reads, no
 * memory map, so no chunk's pages count against the process), each chunk's SHA-256 checked against
 * the index the first time this reader opens it (streamed in 1 MiB blocks). Opening checks the
 * index's format and version and, when the caller says what it expects, the dataset fingerprint,
 * the teachers (name, weights fingerprint, depth) and that every expected entry is cached with the
 * expected kind; entries the caller does not need may be cached too. Every error names the file.
 */
public final class TeacherTargetCache implements AutoCloseable {

  private final Path directory;
  private final Path indexFile;
  private final CacheIndex index;
  private final Map<Integer, Integer> chunkOf = new HashMap<>();
  private final Set<Integer> verified = new HashSet<>();

  private boolean closed;
  private int currentChunk = -1;
  private FileChannel current;
  private Map<Integer, long[]> currentDirectory;

  /** Bytes read at a time while a chunk's checksum is verified. */
  private static final int VERIFY_BLOCK = 1 << 20;

  private TeacherTargetCache(Path directory, CacheIndex index) {
    this.directory = directory;
    this.indexFile = directory.resolve(CacheIndex.FILE_NAME);
    this.index = index;
    for (int c = 0; c < index.chunks().size(); c++) {
      for (int sample : index.chunks().get(c).samples()) {
        if (chunkOf.put(sample, c) != null) {
          throw new TeacherCacheException(
              indexFile, "chunks[" + c + "]", "sample " + sample + " is listed twice", null);
        }
      }
    }
    if (chunkOf.size() != index.samples()) {
      throw new TeacherCacheException(
          indexFile,
          "samples",
          index.samples() + " samples declared, the chunks list " + chunkOf.size(),
          null);
    }
  }

  /** Opens a cache without checking it against a recipe or dataset (for inspection tools). */
  public static TeacherTargetCache open(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    Path file = dir.resolve(CacheIndex.FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new TeacherCacheException(
          file,
          null,
          "missing: not a finished teacher-target cache (the index is written last)",
          null);
    }
    CacheIndex index;
    try {
      index = TeacherTargetCacheWriter.JSON.readValue(file.toFile(), CacheIndex.class);
    } catch (IOException | RuntimeException e) {
      throw new TeacherCacheException(
          file, null, "not a readable cache index: " + e.getMessage(), e);
    }
    if (!CacheIndex.FORMAT.equals(index.format())) {
      throw new TeacherCacheException(
          file, "format", "'" + index.format() + "', expected '" + CacheIndex.FORMAT + "'", null);
    }
    if (index.version() < CacheIndex.OLDEST_READABLE_VERSION
        || index.version() > CacheIndex.VERSION) {
      throw new TeacherCacheException(
          file,
          "version",
          "cache format version "
              + index.version()
              + ", this build reads versions "
              + CacheIndex.OLDEST_READABLE_VERSION
              + " to "
              + CacheIndex.VERSION,
          null);
    }
    if (!"float32".equals(index.dtype())) {
      throw new TeacherCacheException(
          file, "dtype", "'" + index.dtype() + "', this build reads float32", null);
    }
    return new TeacherTargetCache(dir, index);
  }

  /**
   * Opens a cache for a run that needs the entries of {@code expected} computed by its teachers on
   * the dataset {@code datasetFingerprint}.
   *
   * @throws TeacherCacheException naming {@code index.json} and the field that does not match
   */
  public static TeacherTargetCache open(
      Path directory, CacheRecipe expected, String datasetFingerprint) {
    TeacherTargetCache cache = open(directory);
    cache.requireCompatible(expected, datasetFingerprint);
    return cache;
  }

  /**
   * Checks that this cache was made from {@code datasetFingerprint} by the teachers of {@code
   * expected} and holds each of its entries with the same kind.
   *
   * @throws TeacherCacheException naming {@code index.json} and the field that does not match
   */
  public void requireCompatible(CacheRecipe expected, String datasetFingerprint) {
    if (!index.datasetFingerprint().equals(datasetFingerprint)) {
      throw new TeacherCacheException(
          indexFile,
          "datasetFingerprint",
          "the cache was computed on dataset "
              + index.datasetFingerprint()
              + ", this run's dataset is "
              + datasetFingerprint,
          null);
    }
    CacheRecipe cached = index.recipe();
    for (TeacherIdentity want : expected.teachers()) {
      TeacherIdentity have = cached.teacher(want.name());
      String field = "recipe.teachers['" + want.name() + "']";
      if (have == null) {
        throw new TeacherCacheException(
            indexFile,
            field,
            "not in the cache; it holds teachers "
                + cached.teachers().stream()
                    .map(TeacherIdentity::name)
                    .collect(Collectors.toList()),
            null);
      }
      if (!have.weightsFingerprint().equals(want.weightsFingerprint())) {
        throw new TeacherCacheException(
            indexFile,
            field + ".weightsFingerprint",
            "the cache was computed with weights "
                + have.weightsFingerprint()
                + ", this run's teacher has "
                + want.weightsFingerprint(),
            null);
      }
      if (have.depth() != want.depth()) {
        throw new TeacherCacheException(
            indexFile,
            field + ".depth",
            "cached for " + have.depth() + " layers, this run's teacher has " + want.depth(),
            null);
      }
    }
    for (CacheRecipe.Entry want : expected.entries()) {
      int id = cached.indexOf(want.key());
      if (id < 0) {
        throw new TeacherCacheException(
            indexFile,
            "recipe.entries",
            want + " is not cached; the cache holds " + summary(cached.entries()),
            null);
      }
      CacheRecipe.Entry have = cached.entries().get(id);
      if (have.kind() != want.kind()) {
        throw new TeacherCacheException(
            indexFile,
            "recipe.entries[" + id + "]",
            want.key() + " is cached as " + have.kind() + ", the run needs " + want.kind(),
            null);
      }
    }
  }

  private static String summary(List<CacheRecipe.Entry> entries) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < entries.size() && i < 12; i++) {
      names.add(entries.get(i).toString());
    }
    return names + (entries.size() > 12 ? " and " + (entries.size() - 12) + " more" : "");
  }

  /** The index as read. */
  public CacheIndex index() {
    return index;
  }

  /** The recipe the cache was written with. */
  public CacheRecipe recipe() {
    return index.recipe();
  }

  /** Number of samples stored. */
  public int size() {
    return index.samples();
  }

  /** Whether sample {@code sampleIndex} is stored. */
  public boolean contains(int sampleIndex) {
    return chunkOf.containsKey(sampleIndex);
  }

  /**
   * Reads sample {@code sampleIndex} and checks that it was computed for the layout of sample
   * {@code b} of {@code layout}.
   *
   * @throws TeacherCacheException naming the chunk file and sample when the layouts differ
   */
  public CachedSample read(int sampleIndex, TokenLayout layout, int b) {
    CachedSample sample = read(sampleIndex);
    String expected = LayoutFingerprint.of(layout, b);
    if (!expected.equals(sample.layoutFingerprint())) {
      throw new TeacherCacheException(
          chunkFile(chunkOf.get(sampleIndex)),
          "sample " + sampleIndex,
          "cached for token layout "
              + sample.layoutFingerprint()
              + ", the batch's layout is "
              + expected
              + " (another tokenizer, image size or prompt?)",
          null);
    }
    return sample;
  }

  /**
   * Reads sample {@code sampleIndex}.
   *
   * @throws IllegalArgumentException when the sample is not cached
   * @throws IllegalStateException after {@link #close()}
   * @throws TeacherCacheException naming the chunk file on a checksum, version or format problem
   */
  public synchronized CachedSample read(int sampleIndex) {
    if (closed) {
      throw new IllegalStateException(directory + ": the teacher-target cache is closed");
    }
    Integer c = chunkOf.get(sampleIndex);
    if (c == null) {
      throw new IllegalArgumentException(
          directory + ": sample " + sampleIndex + " is not in the cache (" + size() + " samples)");
    }
    if (c != currentChunk) {
      load(c);
    }
    long[] where = currentDirectory.get(sampleIndex);
    Path file = chunkFile(c);
    String field = "sample " + sampleIndex;
    try {
      ByteBuffer record =
          readFully(current, where[0], (int) where[1], file).order(ByteOrder.LITTLE_ENDIAN);
      int stored = record.getInt();
      if (stored != sampleIndex) {
        throw new TeacherCacheException(file, field, "the record holds sample " + stored, null);
      }
      byte[] fingerprint = new byte[32];
      record.get(fingerprint);
      int count = record.getInt();
      List<CacheRecipe.Entry> entries = index.recipe().entries();
      if (count < 0 || count > entries.size()) {
        throw new TeacherCacheException(
            file, field, "entry count " + count + " out of range", null);
      }
      Map<TargetKey, CachedTarget> targets = new LinkedHashMap<>();
      for (int k = 0; k < count; k++) {
        int id = record.getInt();
        int rows = record.getInt();
        int cols = record.getInt();
        if (id < 0 || id >= entries.size() || rows < 0 || cols < 0) {
          throw new TeacherCacheException(
              file,
              field + ", entry " + k,
              "entry id "
                  + id
                  + " (recipe has "
                  + entries.size()
                  + "), shape "
                  + rows
                  + " x "
                  + cols,
              null);
        }
        long n = (long) rows * cols;
        if (n * 4 > record.remaining()) {
          throw new TeacherCacheException(
              file,
              field + ", entry " + k,
              "a " + rows + " x " + cols + " target overruns the record",
              null);
        }
        float[] values = new float[(int) n];
        record.asFloatBuffer().get(values);
        record.position(record.position() + (int) n * 4);
        CacheRecipe.Entry entry = entries.get(id);
        targets.put(entry.key(), new CachedTarget(entry.key(), entry.kind(), rows, cols, values));
      }
      if (record.hasRemaining()) {
        throw new TeacherCacheException(
            file, field, record.remaining() + " unread bytes at the end of the record", null);
      }
      return new CachedSample(sampleIndex, HexFormat.of().formatHex(fingerprint), targets);
    } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
      throw new TeacherCacheException(file, field, "the record is truncated or malformed", e);
    }
  }

  private Path chunkFile(int c) {
    Path file = directory.resolve(index.chunks().get(c).file()).normalize();
    if (!directory.equals(file.getParent())) {
      throw new TeacherCacheException(
          indexFile, "chunks[" + c + "].file", "points outside the cache folder", null);
    }
    return file;
  }

  /**
   * Opens chunk {@code c} for reading: its size and (once per reader) its SHA-256 are checked and
   * its directory read. The chunk is read, not memory-mapped, so that a reader holds one sample's
   * record at a time, not a chunk's pages.
   */
  private void load(int c) {
    CacheIndex.Chunk info = index.chunks().get(c);
    Path file = chunkFile(c);
    // Release the previous chunk first, so that at most one is open in this reader.
    releaseCurrent();
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new TeacherCacheException(file, null, "cannot be read: " + e.getMessage(), e);
    }
    boolean kept = false;
    try {
      long fileSize = channel.size();
      if (fileSize != info.size()) {
        throw new TeacherCacheException(
            file,
            null,
            "size mismatch: the index says " + info.size() + " bytes, the file has " + fileSize,
            null);
      }
      if (fileSize < ChunkFormat.HEADER_BYTES + ChunkFormat.TRAILER_BYTES) {
        throw new TeacherCacheException(file, "header", "not a drivekd cache chunk", null);
      }
      if (!verified.contains(c)) {
        String sha = sha256(channel, fileSize, file);
        if (!sha.equals(info.sha256())) {
          throw new TeacherCacheException(
              file,
              null,
              "SHA-256 mismatch: the index says " + info.sha256() + ", the file hashes to " + sha,
              null);
        }
        verified.add(c);
      }
      current = channel;
      currentDirectory = readDirectory(channel, fileSize, info, file);
      currentChunk = c;
      kept = true;
    } catch (IOException e) {
      throw new TeacherCacheException(file, null, "cannot be read: " + e.getMessage(), e);
    } finally {
      if (!kept) {
        current = null;
        currentDirectory = null;
        currentChunk = -1;
        closeQuietly(channel);
      }
    }
  }

  private static String sha256(FileChannel channel, long size, Path file) throws IOException {
    MessageDigest digest = DataFingerprint.newSha256();
    ByteBuffer block = ByteBuffer.allocate((int) Math.min(VERIFY_BLOCK, Math.max(1, size)));
    long position = 0;
    while (position < size) {
      block.clear();
      int n = channel.read(block, position);
      if (n < 0) {
        throw new TeacherCacheException(file, null, "ends early at byte " + position, null);
      }
      block.flip();
      digest.update(block);
      position += n;
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** {@code length} bytes at {@code position}, in a fresh heap buffer. */
  private static ByteBuffer readFully(FileChannel channel, long position, int length, Path file) {
    ByteBuffer buf = ByteBuffer.allocate(length);
    try {
      while (buf.hasRemaining()) {
        int n = channel.read(buf, position + buf.position());
        if (n < 0) {
          throw new TeacherCacheException(
              file, null, "ends early at byte " + (position + buf.position()), null);
        }
      }
    } catch (IOException e) {
      throw new TeacherCacheException(file, null, "cannot be read: " + e.getMessage(), e);
    }
    return buf.flip();
  }

  private Map<Integer, long[]> readDirectory(
      FileChannel channel, long fileSize, CacheIndex.Chunk info, Path file) {
    ByteBuffer header =
        readFully(channel, 0, ChunkFormat.HEADER_BYTES, file).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[8];
    header.get(0, magic);
    if (!Arrays.equals(magic, ChunkFormat.MAGIC)) {
      throw new TeacherCacheException(file, "header", "not a drivekd cache chunk", null);
    }
    int version = header.getInt(8);
    if (version != ChunkFormat.VERSION) {
      throw new TeacherCacheException(
          file,
          "header.version",
          "chunk format version " + version + ", this build reads version " + ChunkFormat.VERSION,
          null);
    }
    long size = fileSize;
    ByteBuffer trailer =
        readFully(channel, size - ChunkFormat.TRAILER_BYTES, ChunkFormat.TRAILER_BYTES, file)
            .order(ByteOrder.LITTLE_ENDIAN);
    byte[] tail = new byte[8];
    trailer.get(ChunkFormat.TRAILER_BYTES - 8, tail);
    int count = trailer.getInt(0);
    long dirOffset = trailer.getLong(4);
    if (!Arrays.equals(tail, ChunkFormat.TAIL)
        || count != info.samples().size()
        || dirOffset + (long) count * ChunkFormat.DIRECTORY_ENTRY_BYTES
            != size - ChunkFormat.TRAILER_BYTES) {
      throw new TeacherCacheException(
          file,
          "trailer",
          "malformed ("
              + count
              + " samples, directory at "
              + dirOffset
              + ", index lists "
              + info.samples().size()
              + ")",
          null);
    }
    ByteBuffer buf =
        readFully(channel, dirOffset, count * ChunkFormat.DIRECTORY_ENTRY_BYTES, file)
            .order(ByteOrder.LITTLE_ENDIAN);
    Map<Integer, long[]> dir = new HashMap<>();
    for (int i = 0; i < count; i++) {
      int at = i * ChunkFormat.DIRECTORY_ENTRY_BYTES;
      int sample = buf.getInt(at);
      long offset = buf.getLong(at + 4);
      long length = buf.getLong(at + 12);
      if (offset < ChunkFormat.HEADER_BYTES || offset + length > dirOffset || length < 0) {
        throw new TeacherCacheException(
            file, "directory[" + i + "]", "sample " + sample + " lies outside the records", null);
      }
      dir.put(sample, new long[] {offset, length});
    }
    if (!dir.keySet().equals(new HashSet<>(info.samples()))) {
      throw new TeacherCacheException(
          file, "directory", "holds samples other than the index lists for this chunk", null);
    }
    return dir;
  }

  /** Closes the open chunk (the index stays loaded). Reading afterwards is an error. */
  @Override
  public synchronized void close() {
    closed = true;
    releaseCurrent();
  }

  private void releaseCurrent() {
    FileChannel open = current;
    current = null;
    currentDirectory = null;
    currentChunk = -1;
    if (open != null) {
      closeQuietly(open);
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // read-only: nothing to lose
    }
  }
}
