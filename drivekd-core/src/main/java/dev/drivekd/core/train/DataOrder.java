package dev.drivekd.core.train;

import dev.drivekd.gradproj.ShuffleRandom;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The order in which each epoch visits the samples: a fresh seeded shuffle per epoch (the
 * reference's {@code random.shuffle}), or file order. It remembers the generator's state at the
 * start of the current epoch, so that a run resumed in the middle of an epoch replays that epoch's
 * order.
 */
final class DataOrder {

  private final boolean shuffle;
  private final ShuffleRandom random;
  private long atEpochStart;

  DataOrder(boolean shuffle, long seed) {
    this.shuffle = shuffle;
    this.random = new ShuffleRandom(seed);
    this.atEpochStart = random.state();
  }

  /** The order of a new epoch of {@code size} samples. */
  List<Integer> nextEpoch(int size) {
    atEpochStart = random.state();
    return order(size);
  }

  /** The order of the current epoch again (a run resumed mid-epoch). */
  List<Integer> currentEpoch(int size) {
    random.restore(atEpochStart);
    return order(size);
  }

  private List<Integer> order(int size) {
    List<Integer> order = IntStream.range(0, size).boxed().toList();
    return shuffle ? random.shuffled(order) : order;
  }

  /** The generator's state at the start of the current epoch (checkpoints). */
  long epochStartState() {
    return atEpochStart;
  }

  /** The generator's state now (checkpoints). */
  long state() {
    return random.state();
  }

  /** Restores both states from a checkpoint. */
  void restore(long epochStartState, long state) {
    atEpochStart = epochStartState;
    random.restore(state);
  }
}
