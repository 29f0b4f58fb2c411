package dev.drivekd.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One Spark task's share of the samples: a run of whole cache chunks, so that its chunk files are
 * those the single-machine precompute writes for the same samples.
 *
 * @param partition the task's partition
 * @param from first sample index
 * @param to one past the last sample index
 * @param firstChunk the number of its first chunk ({@code from / samplesPerChunk})
 */
public record ShardPlan(int partition, int from, int to, int firstChunk) implements Serializable {

  /**
   * Splits {@code samples} into at most {@code partitions} shards of whole chunks of {@code
   * samplesPerChunk}, as even in chunks as they can be.
   */
  public static List<ShardPlan> split(int samples, int samplesPerChunk, int partitions) {
    if (samples < 1 || samplesPerChunk < 1 || partitions < 1) {
      throw new IllegalArgumentException(
          "cannot split "
              + samples
              + " samples into "
              + partitions
              + " shards of chunks of "
              + samplesPerChunk);
    }
    int chunks = (samples + samplesPerChunk - 1) / samplesPerChunk;
    int shards = Math.min(partitions, chunks);
    List<ShardPlan> out = new ArrayList<>();
    int chunk = 0;
    for (int p = 0; p < shards; p++) {
      int count = chunks / shards + (p < chunks % shards ? 1 : 0);
      int from = chunk * samplesPerChunk;
      int to = Math.min(samples, (chunk + count) * samplesPerChunk);
      out.add(new ShardPlan(p, from, to, chunk));
      chunk += count;
    }
    return out;
  }
}
