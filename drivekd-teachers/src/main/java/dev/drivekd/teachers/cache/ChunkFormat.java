package dev.drivekd.teachers.cache;

import java.nio.charset.StandardCharsets;

/**
 * Constants of the chunk files ({@code chunk-NNNNNN.dktc}), little-endian:
 *
 * <pre>
 * header   "DKTCACHE" (8), version u32, chunk number u32
 * records  per sample: sample index u32, layout SHA-256 (32 bytes), entry count u32,
 *          per entry: entry id u32 (position in the recipe), rows u32, cols u32,
 *                     rows·cols float32 values, row-major
 * directory per sample: sample index u32, record offset u64, record length u64
 * trailer  sample count u32, directory offset u64, "DKTCTAIL" (8)
 * </pre>
 */
final class ChunkFormat {
  /** The chunk format version (unchanged since index version 1). */
  static final int VERSION = 1;

  static final byte[] MAGIC = "DKTCACHE".getBytes(StandardCharsets.US_ASCII);
  static final byte[] TAIL = "DKTCTAIL".getBytes(StandardCharsets.US_ASCII);
  static final int HEADER_BYTES = 16;
  static final int TRAILER_BYTES = 4 + 8 + 8;
  static final int DIRECTORY_ENTRY_BYTES = 4 + 8 + 8;
  static final int SAMPLE_HEAD_BYTES = 4 + 32 + 4;
  static final int ENTRY_HEAD_BYTES = 12;

  private ChunkFormat() {}

  static String fileName(int chunk) {
    return String.format("chunk-%06d.dktc", chunk);
  }
}
