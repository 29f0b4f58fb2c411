package dev.drivekd.core.data;

/**
 * How strictly the reader checks image files. Paths are always validated (non-empty, inside the
 * data root); only {@link #REQUIRE_READABLE} touches the file system.
 */
public enum ImageCheckPolicy {
  /** Every image must be a readable regular file under the data root (the default). */
  REQUIRE_READABLE,
  /** Do not touch image files, for text-only work such as tokenizer statistics. */
  TEXT_ONLY
}
