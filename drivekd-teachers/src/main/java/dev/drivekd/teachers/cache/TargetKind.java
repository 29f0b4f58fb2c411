package dev.drivekd.teachers.cache;

/** What a cached target holds for one sample. */
public enum TargetKind {
  /**
   * The text-by-vision block of a head-averaged map: rows are the sample's text positions, columns
   * its vision positions, both in sequence order ({@link TextVisionBlock}). Enough for the
   * text-to-vision losses (perception, planning).
   */
  TEXT_TO_VISION,
  /** The whole head-averaged map of the sample's valid positions, {@code [len, len]}. */
  FULL_MAP
}
