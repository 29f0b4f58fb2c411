package dev.drivekd.gradproj;

import java.util.ArrayList;
import java.util.List;

/**
 * The seeded generator that orders stage-2 projections (SplitMix64). Its whole state is one {@code
 * long}, so a checkpoint can store it and a resumed run draws the same orders.
 */
public final class ShuffleRandom {
  private long state;

  /** A generator seeded with {@code seed}. */
  public ShuffleRandom(long seed) {
    this.state = seed;
  }

  /** The state to store in a checkpoint. */
  public long state() {
    return state;
  }

  /** Restores a state read from a checkpoint. */
  public void restore(long savedState) {
    this.state = savedState;
  }

  /** The next 64 random bits. */
  public long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform integer in {@code [0, bound)}. */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
  }

  /** A shuffled copy (Fisher-Yates). */
  public <T> List<T> shuffled(List<T> items) {
    List<T> out = new ArrayList<>(items);
    for (int i = out.size() - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      T tmp = out.get(i);
      out.set(i, out.get(j));
      out.set(j, tmp);
    }
    return out;
  }
}
