package dev.drivekd.teachers.cache;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.attention.TokenLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The targets of one sample, collected for {@link TeacherTargetCacheWriter#append}: the sample's
 * index, its layout (fingerprint and the shapes its targets must have) and the targets.
 */
public final class SampleTargets {

  private final int sampleIndex;
  private final String layoutFingerprint;
  private final int length;
  private final int textCount;
  private final int visionCount;
  private final TokenLayout layout;
  private final int b;
  private final List<CachedTarget> targets = new ArrayList<>();

  private SampleTargets(int sampleIndex, TokenLayout layout, int b) {
    if (sampleIndex < 0) {
      throw new IllegalArgumentException("sample index must be >= 0, got " + sampleIndex);
    }
    this.sampleIndex = sampleIndex;
    this.layout = layout;
    this.b = b;
    this.layoutFingerprint = LayoutFingerprint.of(layout, b);
    this.length = layout.length(b);
    this.visionCount = layout.imageTokenCount(b);
    this.textCount = length - visionCount;
  }

  /** Targets of dataset sample {@code sampleIndex}, which is sample {@code b} of {@code layout}. */
  public static SampleTargets of(int sampleIndex, TokenLayout layout, int b) {
    return new SampleTargets(sampleIndex, layout, b);
  }

  /** Adds a target computed elsewhere (e.g. by {@link TextVisionBlock#cut}). */
  public SampleTargets put(CachedTarget target) {
    targets.add(target);
    return this;
  }

  /**
   * Cuts this sample's target of {@code kind} out of a batch's head-averaged maps {@code [B, L, L]}
   * and adds it.
   */
  public SampleTargets cut(NDArray maps, TargetKey key, TargetKind kind) {
    return put(TextVisionBlock.cut(maps, layout, b, key, kind));
  }

  /** The dataset index. */
  public int sampleIndex() {
    return sampleIndex;
  }

  /** The layout fingerprint. */
  public String layoutFingerprint() {
    return layoutFingerprint;
  }

  /** The targets added so far. */
  public List<CachedTarget> targets() {
    return Collections.unmodifiableList(targets);
  }

  /** The rows and columns a target of {@code kind} must have for this sample. */
  int[] expectedShape(TargetKind kind) {
    return kind == TargetKind.TEXT_TO_VISION
        ? new int[] {textCount, visionCount}
        : new int[] {length, length};
  }
}
