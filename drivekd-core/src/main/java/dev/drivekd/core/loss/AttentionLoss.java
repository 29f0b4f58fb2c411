package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.drivekd.core.attention.PairRegion;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.Scalars;

/**
 * A loss between head-averaged attention maps {@code S} (student) and {@code T} (teacher), both
 * {@code [B, L, L]}, over a {@link PairRegion} mask {@code m}. Computed in float32 (float64 inputs
 * stay float64), as method.md section 8 item 12 recommends over the reference's bf16.
 *
 * <p>Factories: {@link #maskedMse()} (the reference A_t-v loss), {@link #fullMse()} (the reference
 * full-map MSE), the drivekd option {@link #causalMaskedMse()}, and the cosine variants of the
 * paper's Table 3.
 */
public abstract class AttentionLoss extends DistillationLoss {

  private final PairRegion region;

  /** Creates an attention loss over {@code region}. */
  protected AttentionLoss(String name, PairRegion region) {
    super(name + "[" + region + "]");
    if (region == null) {
      throw new IllegalArgumentException("region must not be null");
    }
    this.region = region;
  }

  /**
   * Masked text-to-vision MSE, exactly as the reference {@code _atv_loss_masked_fill_sum_last_mean}
   * (trainer.py L156-169): {@code mean_b[ Σ_ij m(S−T)² / max(1, Σ_ij m) ]} with {@code m[b,i,j] =
   * text(b,i) && image(b,j)}; causally-zero pairs are counted in the denominator. An empty mask
   * gives an attached zero.
   */
  public static AttentionLoss maskedMse() {
    return mse(PairRegion.TEXT_TO_VISION);
  }

  /**
   * Masked text-to-vision MSE over causally valid pairs only ({@code j <= i} added to the mask); a
   * drivekd option (method.md section 8 item 6), not in the reference.
   */
  public static AttentionLoss causalMaskedMse() {
    return mse(PairRegion.TEXT_TO_VISION_CAUSAL);
  }

  /**
   * Full-map MSE, the reference {@code _mse_sum_last_mean} (trainer.py L146-148): {@code Σ(S−T)² /
   * (B·L·L)}. With padding, each sample's value is the mean over its valid {@code L_b × L_b} block
   * and the batch value is the mean over samples (equal to the reference without padding).
   */
  public static AttentionLoss fullMse() {
    return mse(PairRegion.FULL_MAP);
  }

  /** Masked mean squared error {@code Σ m(S−T)² / max(1, Σ m)} per sample over {@code region}. */
  public static AttentionLoss mse(PairRegion region) {
    return new MaskedMse(region);
  }

  /**
   * [Table 3 variant, not in the reference] text-to-vision cosine loss: per sample {@code 1 −
   * cos(vec(m⊙S), vec(m⊙T))} with {@code cos = a·b / max(‖a‖‖b‖, 1e-8)}; an empty mask gives an
   * attached zero.
   */
  public static AttentionLoss maskedCosine() {
    return cosine(PairRegion.TEXT_TO_VISION);
  }

  /** [Table 3 variant, not in the reference] full-map cosine loss over all valid pairs. */
  public static AttentionLoss fullCosine() {
    return cosine(PairRegion.FULL_MAP);
  }

  /** [Table 3 variant, not in the reference] cosine loss {@code 1 − cos} over {@code region}. */
  public static AttentionLoss cosine(PairRegion region) {
    return new MaskedCosine(region);
  }

  /** The pairs this loss compares. */
  public PairRegion region() {
    return region;
  }

  /**
   * Per-sample values {@code [B]} between head-averaged maps.
   *
   * @param student {@code [B, L, L]}, in the graph
   * @param teacher {@code [B, L, L]}, detached here
   * @param layout the batch's token layout
   */
  @Override
  public final NDArray perSample(NDArray student, NDArray teacher, TokenLayout layout) {
    LossSupport.checkMaps(student, teacher, layout);
    return LossSupport.scoped(
        () -> {
          DataType type = LossSupport.computeType(student);
          NDArray s = LossSupport.as(student, type);
          NDArray t = LossSupport.as(teacher.stopGradient(), type);
          // a full map of an unpadded batch compares every pair: no mask to build or multiply
          NDArray mask =
              region == PairRegion.FULL_MAP && layout.isUnpadded()
                  ? null
                  : layout.regionMask(region, student.getManager(), type); // shared: no close
          return compare(s, t, mask);
        });
  }

  /**
   * Compares maps of one dtype under a 0/1 mask of the same dtype, or over every pair when {@code
   * mask} is null (the same values, bit for bit, as an all-ones mask gives).
   *
   * @return {@code [B]}
   */
  protected abstract NDArray compare(NDArray student, NDArray teacher, NDArray mask);

  private static final class MaskedMse extends AttentionLoss {
    MaskedMse(PairRegion region) {
      super("mse", region);
    }

    @Override
    protected NDArray compare(NDArray student, NDArray teacher, NDArray mask) {
      int[] pairs = {1, 2};
      NDArray squares = student.sub(teacher).square();
      if (mask == null) {
        long n = student.getShape().get(1) * student.getShape().get(2);
        return Scalars.div(squares.sum(pairs), n);
      }
      NDArray squared = squares.mul(mask).sum(pairs);
      return squared.div(Scalars.maximum(mask.sum(pairs), 1));
    }
  }

  private static final class MaskedCosine extends AttentionLoss {
    MaskedCosine(PairRegion region) {
      super("cosine", region);
    }

    @Override
    protected NDArray compare(NDArray student, NDArray teacher, NDArray mask) {
      int[] pairs = {1, 2};
      if (mask == null) {
        return Cosine.oneMinus(student, teacher, pairs);
      }
      NDArray a = student.mul(mask);
      NDArray b = teacher.mul(mask);
      NDArray nonEmpty = mask.sum(pairs).gt(0).toType(mask.getDataType(), false);
      return Cosine.oneMinus(a, b, pairs).mul(nonEmpty);
    }
  }
}
