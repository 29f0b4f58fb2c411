package dev.drivekd.core.train.weighting;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference's online loss reweighting (method.md 3; trainer.py L379-615): one float32 scalar
 * {@code a_k} per active key, {@code w_k = clamp(softplus(a_k) + eps, min, max)} (and {@code w_ce
 * >= minCe}), balanced once per optimizer step by one AdamW step on {@code J = Σ_k |G_k − p_k q_k
 * S|}, {@code G_k = w_k n̄_k}, {@code S = Σ G_k} (not detached), then renormalised to {@code Σ w =
 * T}.
 *
 * <p>Every operation is carried out in float32 in the order the reference's tensors compute it
 * (sums, means, the analytic gradient of the autograd graph, PyTorch 1.13's single-tensor AdamW),
 * so that the weights track the reference to float32 rounding. Python-float quantities of the
 * reference (target shares, {@code T}, the scale, bias corrections) stay double.
 */
final class DynamicLossWeighting implements LossWeighting {
  private static final Logger LOG = LoggerFactory.getLogger(DynamicLossWeighting.class);
  private static final float SOFTPLUS_THRESHOLD = 20f;
  private static final float SOFTPLUS_INV_FLOOR = 1e-20f;

  private final Map<String, Double> statics;
  private final List<String> active;
  private final DynamicWeightConfig config;
  private final int ceIndex;

  private final float[] a;
  private final long[] adamStep;
  private final float[] expAvg;
  private final float[] expAvgSq;
  private final Float[] lossInit;

  private int windowCount;
  private final Float[] lossSums;
  private final Float[] normSums;

  DynamicLossWeighting(Map<String, Double> statics, DynamicWeightConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("dynamic weight config must not be null");
    }
    this.statics = Collections.unmodifiableMap(new LinkedHashMap<>(statics));
    this.active = TaskKeys.activeKeys(statics);
    this.config = config;
    this.ceIndex = active.indexOf(TaskKeys.CE);
    int k = active.size();
    this.a = new float[k];
    this.adamStep = new long[k];
    this.expAvg = new float[k];
    this.expAvgSq = new float[k];
    this.lossInit = new Float[k];
    this.lossSums = new Float[k];
    this.normSums = new Float[k];
    for (int i = 0; i < k; i++) {
      double w0 = statics.get(active.get(i));
      w0 = Math.max(config.minWeight(), Math.min(config.maxWeight(), w0));
      a[i] = softplusInv((float) w0);
    }
  }

  // ---- float32 primitives, as PyTorch's CPU kernels compute them ----

  /** {@code F.softplus}: {@code x > 20 ? x : log1p(exp(x))}, each rounded to float. */
  static float softplus(float x) {
    if (x > SOFTPLUS_THRESHOLD) {
      return x;
    }
    float z = (float) Math.exp(x);
    return (float) Math.log1p(z);
  }

  /** {@code log(clamp_min(expm1(y), 1e-20))} in float. */
  static float softplusInv(float y) {
    float e = (float) Math.expm1(y);
    return (float) Math.log(Math.max(e, SOFTPLUS_INV_FLOOR));
  }

  /** The weight before the CE floor: {@code clamp(softplus(a) + eps, min, max)}. */
  private float clampedWeight(float raw) {
    return Math.min(Math.max(raw, (float) config.minWeight()), (float) config.maxWeight());
  }

  private float rawWeight(int i) {
    return softplus(a[i]) + (float) config.eps();
  }

  private float weightOf(int i) {
    float w = clampedWeight(rawWeight(i));
    if (i == ceIndex) {
      w = Math.max(w, (float) config.minCeWeight());
    }
    return w;
  }

  private float[] weightsNow() {
    float[] w = new float[active.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = weightOf(i);
    }
    return w;
  }

  // ---- LossWeighting ----

  @Override
  public boolean isDynamic() {
    return true;
  }

  @Override
  public List<String> activeKeys() {
    return active;
  }

  @Override
  public Map<String, Double> staticWeights() {
    return statics;
  }

  @Override
  public Map<String, Float> currentWeights() {
    float[] w = weightsNow();
    Map<String, Float> out = new LinkedHashMap<>();
    for (int i = 0; i < w.length; i++) {
      out.put(active.get(i), w[i]);
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public void accumulate(
      Map<String, ? extends Number> losses, Map<String, ? extends Number> norms) {
    if (losses == null || norms == null) {
      throw new IllegalArgumentException("losses and norms must not be null");
    }
    for (int i = 0; i < active.size(); i++) {
      String key = active.get(i);
      Number loss = losses.get(key);
      Number norm = norms.get(key);
      if (loss == null || norm == null) {
        continue;
      }
      float l = loss.floatValue();
      float n = norm.floatValue();
      lossSums[i] = lossSums[i] == null ? l : lossSums[i] + l;
      normSums[i] = normSums[i] == null ? n : normSums[i] + n;
    }
    windowCount++;
  }

  @Override
  public WeightUpdate update() {
    int count = windowCount;
    int k = active.size();
    Float[] meanLoss = new Float[k];
    Float[] meanNorm = new Float[k];
    Map<String, Float> meanLossMap = new LinkedHashMap<>();
    Map<String, Float> meanNormMap = new LinkedHashMap<>();
    if (count > 0) {
      float c = count;
      for (int i = 0; i < k; i++) {
        if (lossSums[i] != null) {
          meanLoss[i] = lossSums[i] / c;
          meanLossMap.put(active.get(i), meanLoss[i]);
        }
        if (normSums[i] != null) {
          meanNorm[i] = normSums[i] / c;
          meanNormMap.put(active.get(i), meanNorm[i]);
        }
      }
    }
    resetWindow();

    List<Integer> avail = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      if (meanLoss[i] != null && meanNorm[i] != null) {
        avail.add(i);
      }
    }
    if (avail.size() <= 1) {
      return WeightUpdate.none(count, meanLossMap, meanNormMap);
    }
    for (int i : avail) {
      if (!Float.isFinite(meanLoss[i]) || !Float.isFinite(meanNorm[i])) {
        // The reference would carry NaN/inf into a and poison every later weight.
        LOG.warn(
            "Skipping the dynamic loss-weight update: non-finite window statistics for '{}' (mean"
                + " loss {}, mean gradient norm {})",
            active.get(i),
            meanLoss[i],
            meanNorm[i]);
        return WeightUpdate.none(count, meanLossMap, meanNormMap);
      }
    }
    for (int i : avail) {
      if (lossInit[i] == null) {
        lossInit[i] = meanLoss[i];
      }
    }

    float[] wNow = weightsNow();
    int n = avail.size();
    float[] g = new float[n];
    float gSum = 0f;
    for (int j = 0; j < n; j++) {
      int i = avail.get(j);
      g[j] = wNow[i] * meanNorm[i];
      gSum = j == 0 ? g[j] : gSum + g[j];
    }
    if (gSum <= 0f) {
      return WeightUpdate.none(count, meanLossMap, meanNormMap);
    }

    double[] shares = new double[n];
    double shareSum = 0;
    for (int j = 0; j < n; j++) {
      shares[j] = Math.max(0.0, statics.get(active.get(avail.get(j))));
      shareSum += shares[j];
    }
    if (shareSum <= 0.0) {
      java.util.Arrays.fill(shares, 1.0);
      shareSum = n;
    }
    for (int j = 0; j < n; j++) {
      shares[j] = shares[j] / shareSum;
    }

    float[] ratio = new float[n];
    float ratioSum = 0f;
    for (int j = 0; j < n; j++) {
      int i = avail.get(j);
      float l0 = (float) Math.max(1e-12, (double) lossInit[i]);
      ratio[j] = meanLoss[i] / l0;
      ratioSum = j == 0 ? ratio[j] : ratioSum + ratio[j];
    }
    float rBar = ratioSum / (float) n;

    boolean useAlpha = config.alpha() != 0.0;
    float[] q = new float[n];
    float[] targets = new float[n];
    float objective = 0f;
    float[] sign = new float[n];
    for (int j = 0; j < n; j++) {
      float share = (float) shares[j];
      if (useAlpha) {
        q[j] = pow(ratio[j] / rBar, (float) config.alpha());
        targets[j] = (share * gSum) * q[j];
      } else {
        q[j] = 1f;
        targets[j] = share * gSum;
      }
      float diff = g[j] - targets[j];
      objective += Math.abs(diff);
      sign[j] = Math.signum(diff);
    }

    // Backward of J through G_k and through S. Autograd runs the targets' backward nodes newest
    // first, so S's gradient collects the terms from the last key to the first; summed in the
    // other order it differs in the last bit, which the difference e_j + gradSum (a cancellation
    // when the balancer is near its target) turned into 3e-5 relative at large alpha and rate.
    float gradSum = 0f;
    for (int j = n - 1; j >= 0; j--) {
      float share = (float) shares[j];
      float term = useAlpha ? (-sign[j] * q[j]) * share : -sign[j] * share;
      gradSum = j == n - 1 ? term : gradSum + term;
    }
    float[] gradA = new float[n];
    for (int j = 0; j < n; j++) {
      int i = avail.get(j);
      float gradG = sign[j] + gradSum;
      float gradW = gradG * meanNorm[i];
      gradA[j] = clampPasses(i) ? softplusBackward(gradW, a[i]) : 0f;
    }

    for (int j = 0; j < n; j++) {
      adamStep(avail.get(j), gradA[j]);
    }

    float[] wNew = weightsNow();
    float subset = 0f;
    for (int j = 0; j < n; j++) {
      subset = j == 0 ? wNew[avail.get(j)] : subset + wNew[avail.get(j)];
    }
    subset = Math.max(subset, 1e-20f);
    double target = 0;
    for (int i : avail) {
      target += Math.max(0.0, statics.get(active.get(i)));
    }
    if (target <= 0.0) {
      target = n;
    }
    double scale = target / (double) subset;
    Map<String, Float> written = new LinkedHashMap<>();
    for (int i : avail) {
      float w = clampedWeight(wNew[i] * (float) scale);
      if (i == ceIndex) {
        w = Math.max(w, (float) config.minCeWeight());
      }
      a[i] = softplusInv(w);
      written.put(active.get(i), w);
    }

    List<String> availKeys = new ArrayList<>();
    Map<String, Float> wNowMap = new LinkedHashMap<>();
    Map<String, Float> gMap = new LinkedHashMap<>();
    Map<String, Double> shareMap = new LinkedHashMap<>();
    Map<String, Float> ratioMap = new LinkedHashMap<>();
    Map<String, Float> targetMap = new LinkedHashMap<>();
    Map<String, Float> gradMap = new LinkedHashMap<>();
    for (int i = 0; i < k; i++) {
      wNowMap.put(active.get(i), wNow[i]);
    }
    for (int j = 0; j < n; j++) {
      String key = active.get(avail.get(j));
      availKeys.add(key);
      gMap.put(key, g[j]);
      shareMap.put(key, shares[j]);
      ratioMap.put(key, ratio[j]);
      targetMap.put(key, targets[j]);
      gradMap.put(key, gradA[j]);
    }
    WeightUpdate.Internals internals =
        new WeightUpdate.Internals(
            List.copyOf(availKeys),
            Collections.unmodifiableMap(wNowMap),
            Collections.unmodifiableMap(gMap),
            gSum,
            Collections.unmodifiableMap(shareMap),
            Collections.unmodifiableMap(ratioMap),
            rBar,
            Collections.unmodifiableMap(targetMap),
            objective,
            Collections.unmodifiableMap(gradMap),
            subset,
            target,
            scale);
    return new WeightUpdate(count, meanLossMap, meanNormMap, true, written, internals);
  }

  /** PyTorch's clamp backward is inclusive: the gradient passes on the bounds. */
  private boolean clampPasses(int i) {
    float raw = rawWeight(i);
    boolean pass = raw >= (float) config.minWeight() && raw <= (float) config.maxWeight();
    if (i == ceIndex) {
      pass &= clampedWeight(raw) >= (float) config.minCeWeight();
    }
    return pass;
  }

  /**
   * {@code softplus_backward}: {@code grad · z / (z + 1)}, {@code z = exp(x)}; identity above 20.
   */
  private static float softplusBackward(float grad, float x) {
    if (x > SOFTPLUS_THRESHOLD) {
      return grad;
    }
    float z = (float) Math.exp(x);
    return grad * z / (z + 1f);
  }

  private static float pow(float base, float exponent) {
    if (exponent == 0.5f) {
      return (float) Math.sqrt(base);
    }
    if (exponent == 2f) {
      return base * base;
    }
    if (exponent == 1f) {
      return base;
    }
    return (float) Math.pow(base, exponent);
  }

  /** PyTorch 1.13 {@code _single_tensor_adamw} on one float32 scalar. */
  private void adamStep(int i, float grad) {
    adamStep[i]++;
    double lr = config.learningRate();
    a[i] *= (float) (1 - lr * config.weightDecay());
    expAvg[i] = expAvg[i] * (float) config.beta1() + (float) (1 - config.beta1()) * grad;
    expAvgSq[i] = expAvgSq[i] * (float) config.beta2() + (float) (1 - config.beta2()) * grad * grad;
    double step = adamStep[i];
    double biasCorrection1 = 1 - Math.pow(config.beta1(), step);
    double biasCorrection2 = 1 - Math.pow(config.beta2(), step);
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    float denom =
        (float) Math.sqrt(expAvgSq[i]) / (float) biasCorrection2Sqrt + (float) config.adamEps();
    a[i] = a[i] + (float) -stepSize * expAvg[i] / denom;
  }

  private void resetWindow() {
    windowCount = 0;
    java.util.Arrays.fill(lossSums, null);
    java.util.Arrays.fill(normSums, null);
  }

  // ---- checkpoint state ----

  @Override
  public LossWeightingState exportState() {
    Map<String, Float> aMap = new LinkedHashMap<>();
    Map<String, LossWeightingState.AdamScalarState> adam = new LinkedHashMap<>();
    Map<String, Float> init = new LinkedHashMap<>();
    Map<String, Float> lossWindow = new LinkedHashMap<>();
    Map<String, Float> normWindow = new LinkedHashMap<>();
    for (int i = 0; i < active.size(); i++) {
      String key = active.get(i);
      aMap.put(key, a[i]);
      if (adamStep[i] > 0) {
        adam.put(key, new LossWeightingState.AdamScalarState(adamStep[i], expAvg[i], expAvgSq[i]));
      }
      if (lossInit[i] != null) {
        init.put(key, lossInit[i]);
      }
      if (lossSums[i] != null) {
        lossWindow.put(key, lossSums[i]);
      }
      if (normSums[i] != null) {
        normWindow.put(key, normSums[i]);
      }
    }
    return new LossWeightingState(
        LossWeightingState.VERSION,
        true,
        statics,
        config,
        aMap,
        adam,
        init,
        windowCount,
        lossWindow,
        normWindow);
  }

  @Override
  public void restore(LossWeightingState state) {
    if (!state.dynamic()) {
      throw new IllegalArgumentException(
          "the checkpoint holds static loss weights but this trainer uses dynamic ones");
    }
    for (String key : state.a().keySet()) {
      requireActive(key, "a");
    }
    for (int i = 0; i < active.size(); i++) {
      String key = active.get(i);
      Float value = state.a().get(key);
      if (value == null) {
        throw new IllegalArgumentException(
            "loss-weighting state has no parameter a for active key '" + key + "'");
      }
      a[i] = value;
      LossWeightingState.AdamScalarState adam = state.adam().get(key);
      adamStep[i] = adam == null ? 0 : adam.step();
      expAvg[i] = adam == null ? 0f : adam.expAvg();
      expAvgSq[i] = adam == null ? 0f : adam.expAvgSq();
      lossInit[i] = state.lossInit().get(key);
      lossSums[i] = state.windowLossSums().get(key);
      normSums[i] = state.windowNormSums().get(key);
    }
    for (String key : state.adam().keySet()) {
      requireActive(key, "adam");
    }
    for (String key : state.lossInit().keySet()) {
      requireActive(key, "lossInit");
    }
    if (state.windowCount() < 0) {
      throw new IllegalArgumentException("window count must be >= 0, got " + state.windowCount());
    }
    windowCount = state.windowCount();
  }

  private void requireActive(String key, String field) {
    if (!active.contains(key)) {
      throw new IllegalArgumentException(
          "loss-weighting state field '"
              + field
              + "' names '"
              + key
              + "', which is not an active key "
              + active);
    }
  }

  @Override
  public String toString() {
    return "LossWeighting.dynamic" + currentWeights();
  }
}
