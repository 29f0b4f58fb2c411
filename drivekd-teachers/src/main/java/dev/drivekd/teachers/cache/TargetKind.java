package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.PairRegion;
import dev.drivekd.core.loss.AttentionLoss;

/** What a cached target holds for one sample. */
public enum TargetKind {
  /**
   * The text-by-vision block of a head-averaged map: rows are the sample's text positions, columns
   * its vision positions, both in sequence order ({@link TextVisionBlock}). Enough for the
   * text-to-vision losses (perception, planning).
   */
  TEXT_TO_VISION,
  /** The whole head-averaged map of the sample's valid positions, {@code [len, len]}. */
  FULL_MAP;

  /**
   * The smallest target that gives a loss over {@code region} its live value: the text-by-vision
   * block for {@link PairRegion#TEXT_TO_VISION} and its causal subset, the full map otherwise.
   */
  public static TargetKind forRegion(PairRegion region) {
    switch (region) {
      case TEXT_TO_VISION:
      case TEXT_TO_VISION_CAUSAL:
        return TEXT_TO_VISION;
      case FULL_MAP:
        return FULL_MAP;
      default:
        throw new IllegalArgumentException("no cached target kind for region " + region);
    }
  }

  /** The target a loss reads ({@link #forRegion} of its region). */
  public static TargetKind forLoss(AttentionLoss loss) {
    return forRegion(loss.region());
  }
}
