package dev.drivekd.examples.ablation;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.gradproj.GradientProjection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One row of the held-out ablation (the paper's Table 3): which teachers a student learns from and
 * how their gradients meet the cross-entropy's. Every variant trains the same student from the same
 * initialisation on the same labels, in the same order, for the same number of steps.
 */
public enum AblationVariant {
  /** Cross-entropy on the labels alone. */
  CE_ONLY(EnumSet.noneOf(Capability.class), GradientProjection::none),
  /** The perception teacher's layer-0 text-to-vision attention on every sample. */
  SINGLE_PERCEPTION(EnumSet.of(Capability.PERCEPTION), GradientProjection::none),
  /** The reasoning teacher's intermediate full maps on every sample. */
  SINGLE_REASONING(EnumSet.of(Capability.REASONING), GradientProjection::none),
  /** The planning teacher's penultimate-layer text-to-vision attention on every sample. */
  SINGLE_PLANNING(EnumSet.of(Capability.PLANNING), GradientProjection::none),
  /** The three teachers, mixed per sample, their gradients summed with the cross-entropy's. */
  MULTI_NO_PROJECTION(EnumSet.allOf(Capability.class), GradientProjection::none),
  /** Drive-KD: the three teachers, mixed per sample, conflicts resolved by AGP. */
  DRIVE_KD(EnumSet.allOf(Capability.class), GradientProjection::agp),
  /** AGP's first stage only (the paper's G1 ablation), behind {@code --variants}. */
  DRIVE_KD_G1(EnumSet.allOf(Capability.class), GradientProjection::stage1Only),
  /** AGP's second stage only (the paper's G2 ablation), behind {@code --variants}. */
  DRIVE_KD_G2(EnumSet.allOf(Capability.class), GradientProjection::stage2Only),
  /** Drive-KD with AGP amortised: a full combine every 4th micro-step (behind --variants). */
  DRIVE_KD_REFRESH_4(EnumSet.allOf(Capability.class), () -> amortised(4)),
  /** Drive-KD with AGP amortised: a full combine every 8th micro-step (behind --variants). */
  DRIVE_KD_REFRESH_8(EnumSet.allOf(Capability.class), () -> amortised(8)),
  /** Drive-KD with AGP amortised: a full combine every 16th micro-step (behind --variants). */
  DRIVE_KD_REFRESH_16(EnumSet.allOf(Capability.class), () -> amortised(16));

  /**
   * The variants of the amortised-AGP study (issue 16): T = 1 (Drive-KD), 4, 8, 16, no projection.
   */
  public static final List<AblationVariant> AMORTISED_AGP =
      List.of(
          CE_ONLY,
          MULTI_NO_PROJECTION,
          DRIVE_KD,
          DRIVE_KD_REFRESH_4,
          DRIVE_KD_REFRESH_8,
          DRIVE_KD_REFRESH_16);

  private static GradientProjection amortised(int every) {
    return GradientProjection.agp().optRefreshEvery(every);
  }

  /** The paper's Table 3 rows, the default run's variants. */
  public static final List<AblationVariant> TABLE_3 =
      List.of(
          CE_ONLY,
          SINGLE_PERCEPTION,
          SINGLE_REASONING,
          SINGLE_PLANNING,
          MULTI_NO_PROJECTION,
          DRIVE_KD);

  private final EnumSet<Capability> teachers;
  private final Supplier<GradientProjection> projection;

  AblationVariant(EnumSet<Capability> teachers, Supplier<GradientProjection> projection) {
    this.teachers = teachers;
    this.projection = projection;
  }

  /** The key of the variant in reports ({@code ce_only}, {@code drive_kd}, ...). */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The variant of a report key. */
  public static AblationVariant ofKey(String key) {
    for (AblationVariant v : values()) {
      if (v.key().equals(key)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "unknown ablation variant '" + key + "'; one of " + java.util.Arrays.toString(keys()));
  }

  static String[] keys() {
    AblationVariant[] all = values();
    String[] out = new String[all.length];
    for (int i = 0; i < all.length; i++) {
      out[i] = all[i].key();
    }
    return out;
  }

  /** The capabilities whose teachers the student learns from (none for CE only). */
  public Set<Capability> teachers() {
    return EnumSet.copyOf(teachers);
  }

  /** Whether the student learns from any teacher. */
  public boolean distils() {
    return !teachers.isEmpty();
  }

  /**
   * The mixing matrix: the paper's default for the three-teacher variants; a single teacher teaches
   * every sample with weight 1.
   */
  public MixingMatrix mixing() {
    if (teachers.size() != 1) {
      return MixingMatrix.paperDefault();
    }
    double[] row = new double[3];
    row[teachers.iterator().next().ordinal()] = 1;
    return MixingMatrix.replicated(row);
  }

  /** AGP (or one of its stages) for Drive-KD, a plain sum of the task gradients otherwise. */
  public GradientProjection projection() {
    return projection.get();
  }
}
