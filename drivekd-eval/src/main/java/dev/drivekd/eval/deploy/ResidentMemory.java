package dev.drivekd.eval.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from {@code /proc/self/status} (Linux). Native tensors live
 * outside the Java heap, so resident memory is what shows them; {@link #resetPeak} lets a benchmark
 * measure the peak of one phase.
 */
public final class ResidentMemory {
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  private ResidentMemory() {}

  /** Whether resident and peak memory can be read here. */
  public static boolean available() {
    return Files.isReadable(STATUS) && Files.isWritable(CLEAR_REFS);
  }

  /** Current resident set size in bytes. */
  public static long residentBytes() {
    return read("VmRSS:");
  }

  /** Peak resident set size since the last {@link #resetPeak} in bytes. */
  public static long peakBytes() {
    return read("VmHWM:");
  }

  /** Resets the peak to the current resident size (Linux clear_refs 5). */
  public static void resetPeak() {
    try {
      Files.writeString(CLEAR_REFS, "5");
    } catch (IOException e) {
      throw new IllegalStateException("Cannot reset the peak resident size", e);
    }
  }

  private static long read(String key) {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith(key)) {
          String[] parts = line.substring(key.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024L;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + STATUS, e);
    }
    throw new IllegalStateException(key + " missing from " + STATUS);
  }
}
