package dev.drivekd.core.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The query-key pairs of a {@code [B, L, L]} map that an attention loss compares (method.md
 * 1.3-1.4). Padding positions are never part of a region.
 */
public enum PairRegion {
  /** Text queries on vision keys, causally-zero pairs included (the reference A_t-v). */
  TEXT_TO_VISION,
  /** Text queries on earlier-or-equal vision keys only ({@code j <= i}; a drivekd option). */
  TEXT_TO_VISION_CAUSAL,
  /** Every valid query-key pair (the reference's full map, per sample). */
  FULL_MAP;

  /** The boolean mask {@code [B, L, L]} of this region for {@code layout}. */
  public NDArray mask(TokenLayout layout, NDManager manager) {
    switch (this) {
      case TEXT_TO_VISION:
        return layout.textToVisionMask(manager);
      case TEXT_TO_VISION_CAUSAL:
        return layout.causalTextToVisionMask(manager);
      default:
        return layout.validPairMask(manager);
    }
  }
}
