package dev.drivekd.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShardPlanTest {

  @Test
  void shardsAreRunsOfWholeChunksCoveringEverySampleOnce() {
    // 18 samples in chunks of 4: chunks 0-4, the last holding 2 samples
    assertEquals(
        List.of(new ShardPlan(0, 0, 12, 0), new ShardPlan(1, 12, 18, 3)),
        ShardPlan.split(18, 4, 2));
    assertEquals(
        List.of(
            new ShardPlan(0, 0, 8, 0),
            new ShardPlan(1, 8, 12, 2),
            new ShardPlan(2, 12, 16, 3),
            new ShardPlan(3, 16, 18, 4)),
        ShardPlan.split(18, 4, 4));
    // more partitions than chunks: one shard per chunk
    assertEquals(5, ShardPlan.split(18, 4, 9).size());
    assertEquals(List.of(new ShardPlan(0, 0, 18, 0)), ShardPlan.split(18, 64, 8));
    for (int samples = 1; samples < 200; samples += 7) {
      for (int partitions = 1; partitions < 6; partitions++) {
        List<ShardPlan> plans = ShardPlan.split(samples, 8, partitions);
        int next = 0;
        for (ShardPlan p : plans) {
          assertEquals(next, p.from());
          assertEquals(p.from() / 8, p.firstChunk());
          assertEquals(0, p.from() % 8);
          next = p.to();
        }
        assertEquals(samples, next);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> ShardPlan.split(0, 4, 2));
  }
}
