package dev.drivekd.core.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints on a full disk: an in-memory file system (Jimfs) of a fixed size, swept in 64-byte
 * steps from too small for one checkpoint to large enough for two, so that the space runs out at
 * every write of a save in turn (each part, the manifest, the rename, {@code latest}). Whatever
 * fails, a save either succeeds or throws a {@link CheckpointException} that says what is left, and
 * the newest checkpoint that did save is the one a resumed run loads, bit for bit.
 */
class CheckpointDiskFullTest {

  private static final int BLOCK = 64;

  @Test
  void aFullDiskNeverCostsTheLastGoodCheckpoint() throws IOException {
    int failuresInFirst = 0;
    int failuresInSecond = 0;
    int bothSaved = 0;
    try (NDManager manager = NDManager.newBaseManager()) {
      for (long size = 4 * BLOCK; ; size += BLOCK) {
        Configuration config =
            Configuration.unix().toBuilder().setBlockSize(BLOCK).setMaxSize(size).build();
        try (FileSystem fs = Jimfs.newFileSystem(config)) {
          Path run = fs.getPath("/run");
          CheckpointStore store = CheckpointStore.open(run);
          long saved = 0;
          for (long step = 1; step <= 2; step++) {
            try {
              store.save(checkpoint(manager, step));
              saved = step;
            } catch (CheckpointException e) {
              assertTrue(
                  e.getMessage().contains("nothing changed")
                      || e.getMessage().contains("`latest` is unchanged")
                      || e.getMessage().contains("could not be updated"),
                  e.getMessage());
              if (step == 1) {
                failuresInFirst++;
              } else {
                failuresInSecond++;
              }
              break;
            }
          }
          Optional<Checkpoint> loaded = CheckpointStore.open(run).latestValid(manager);
          if (saved == 0) {
            assertTrue(loaded.isEmpty() || loaded.get().counters().optimizerStep() == 1);
          } else {
            assertTrue(loaded.isPresent(), "size " + size);
            long step = loaded.get().counters().optimizerStep();
            // the newest complete save, or the one before it when only `latest` failed
            assertTrue(step == saved || step == saved + 1, "size " + size + ": step " + step);
            assertArrayEquals(
                new float[] {step, -step},
                loaded.get().studentWeights().get("w").toFloatArray(),
                "size " + size);
          }
          if (saved == 2) {
            bothSaved++;
            if (bothSaved == 3) {
              break;
            }
          }
        }
      }
    }
    System.out.printf(
        "disk-full sweep: %d sizes failed in the first save, %d in the second, then both saved%n",
        failuresInFirst, failuresInSecond);
    // the sweep reached failures inside both saves, at many points of each
    assertTrue(failuresInFirst > 5, "first-save failures " + failuresInFirst);
    assertTrue(failuresInSecond > 5, "second-save failures " + failuresInSecond);
  }

  private static Checkpoint checkpoint(NDManager manager, long step) {
    return Checkpoint.builder()
        .setCounters(new StepCounters(0, step, step, 0))
        .setStudentWeights(Map.of("w", manager.create(new float[] {step, -step})))
        .setProvenance(
            new RunProvenance(
                null, Map.of("seed", step), Map.of(), Map.of(), "none", "2026-01-01T00:00:00Z"))
        .build();
  }
}
