package dev.drivekd.spark;

import dev.drivekd.teachers.cache.CacheIndex;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What a successful task attempt wrote: its attempt-private folder and its chunks.
 *
 * @param partition the partition
 * @param attempt Spark's attempt number of the task (0 for the first)
 * @param folder the attempt's folder, holding the chunk files
 * @param chunks the chunks, in order
 * @param seconds the attempt's wall time
 */
public record ShardResult(
    int partition, int attempt, String folder, List<Chunk> chunks, double seconds)
    implements Serializable {

  /** A chunk as the index lists it (serialisable). */
  public record Chunk(String file, long size, String sha256, List<Integer> samples)
      implements Serializable {

    static Chunk of(CacheIndex.Chunk c) {
      return new Chunk(c.file(), c.size(), c.sha256(), new ArrayList<>(c.samples()));
    }

    CacheIndex.Chunk toIndex() {
      return new CacheIndex.Chunk(file, size, sha256, samples);
    }
  }
}
