package dev.drivekd.core.train.optimizer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.util.Pair;
import dev.drivekd.core.train.schedule.LrSchedule;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AdamW with exactly {@code torch.optim.AdamW}'s semantics (Loshchilov and Hutter, "Decoupled
 * Weight Decay Regularization", 2019), as the Drive-KD reference trains its student (method.md 5).
 * For the {@code t}-th update of a parameter:
 *
 * <pre>
 * θ ← θ·(1 − lr·wd)                       decoupled decay, before the moments
 * m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 * θ ← θ − (lr / (1 − β1^t)) · m / ( sqrt(v) / sqrt(1 − β2^t) + eps )
 * </pre>
 *
 * <p>Two things set it apart from DJL's {@code Optimizer.adamW()}: DJL folds {@code sqrt(1−β2^t)}
 * into the learning rate, which moves eps inside the bias correction (effectively {@code
 * eps·sqrt(1−β2^t)} in PyTorch terms), and its bias-correction step is the largest update count of
 * any parameter rather than the parameter's own. DJL's default weight decay is also 0.01, where the
 * reference uses 0.
 *
 * <p>The state of each parameter ({@code step}, {@code exp_avg}, {@code exp_avg_sq}) lives in the
 * parameter's manager, in its dtype and on its device, and is exported for checkpoints with {@link
 * #exportState}. The learning rate follows DJL's convention: the update count {@code k} (1-based,
 * the largest count of any parameter so far) gives {@code schedule.rateAtOptimizerStep(k)}, which
 * for an {@link LrSchedule} is the reference's "scheduler steps after the optimizer". Like DJL's
 * own optimizers on PyTorch, an update zeroes the parameter's gradient afterwards.
 */
public final class PyTorchAdamW extends Optimizer {
  private final LrSchedule schedule;
  private final ParameterTracker tracker;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;

  private final Map<String, Map<Device, Moments>> states = new ConcurrentHashMap<>();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private long numUpdate;

  private PyTorchAdamW(Builder builder) {
    super(builder);
    if (clipGrad >= 0) {
      throw new IllegalArgumentException(
          "PyTorchAdamW does not clamp gradients element-wise (DJL's optClipGrad); use"
              + " GradientClipping.clipByGlobalNorm before the step");
    }
    this.schedule = builder.schedule;
    this.tracker = builder.tracker;
    this.beta1 = builder.beta1;
    this.beta2 = builder.beta2;
    this.eps = builder.eps;
    this.weightDecay = builder.weightDecay;
  }

  /** A builder with PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The reference student's optimizer (trainer.py L801-806): lr from {@code schedule} (5e-5
   * constant by default), betas (0.9, 0.999), eps 1e-8, weight decay 0.
   */
  public static PyTorchAdamW reference(LrSchedule schedule) {
    return builder().optLearningRate(schedule).build();
  }

  /**
   * {@inheritDoc}
   *
   * <p>The learning rate comes from this optimizer's own update count (DJL's convention). A
   * training loop that keeps its own step count, and may skip optimizer steps, passes the rate with
   * {@link #update(String, NDArray, NDArray, double)} instead.
   */
  @Override
  public void update(String parameterId, NDArray weight, NDArray grad) {
    Moments state = state(parameterId, weight);
    long step = state.step + 1;
    synchronized (this) {
      numUpdate = Math.max(numUpdate, step);
    }
    apply(state, weight, grad, learningRate(parameterId));
  }

  /**
   * One AdamW update of one parameter at the given learning rate: the schedule's rate of the
   * caller's optimizer step, so that the rate used is the rate reported even after steps in which
   * nothing was updated (PyTorch's scheduler moves on without the optimizer, too). The bias
   * correction uses the parameter's own update count, as {@code torch.optim.AdamW} does.
   */
  public void update(String parameterId, NDArray weight, NDArray grad, double learningRate) {
    Moments state = state(parameterId, weight);
    synchronized (this) {
      numUpdate = Math.max(numUpdate, state.step + 1);
    }
    apply(state, weight, grad, learningRate);
  }

  private void apply(Moments state, NDArray weight, NDArray grad, double lr) {
    state.step++;
    if (!Double.isFinite(lr)) {
      throw new IllegalStateException("learning rate is not finite: " + lr);
    }
    boolean restoreGradMode = weight instanceof PtNDArray && JniUtils.isGradMode();
    if (restoreGradMode) {
      JniUtils.setGradMode(false);
    }
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray g = rescaleGrad == 1f ? grad : grad.mul(rescaleGrad); // no graph
      if (weightDecay != 0) {
        weight.muli((float) (1 - lr * weightDecay));
      }
      state.expAvg.muli((float) beta1).addi(g.mul((float) (1 - beta1))); // no graph
      state.expAvgSq.muli((float) beta2).addi(g.mul((float) (1 - beta2)).muli(g)); // no graph
      double biasCorrection1 = 1 - Math.pow(beta1, state.step);
      double biasCorrection2 = 1 - Math.pow(beta2, state.step);
      double stepSize = lr / biasCorrection1;
      NDArray denom =
          state.expAvgSq.sqrt().divi((float) Math.sqrt(biasCorrection2)).addi((float) eps);
      weight.addi(state.expAvg.mul((float) -stepSize).divi(denom)); // no graph
    } finally {
      if (restoreGradMode) {
        JniUtils.setGradMode(true);
      }
    }
    if (weight instanceof PtNDArray && weight.hasGradient()) {
      JniUtils.zeroGrad((PtNDArray) weight);
    }
  }

  private double learningRate(String parameterId) {
    long k;
    synchronized (this) {
      k = numUpdate;
    }
    if (schedule != null) {
      return schedule.rateAtOptimizerStep(k);
    }
    return tracker.getNewValue(parameterId, (int) Math.min(Integer.MAX_VALUE, k));
  }

  private Moments state(String parameterId, NDArray weight) {
    Map<Device, Moments> byDevice = states.computeIfAbsent(parameterId, k -> new HashMap<>());
    synchronized (byDevice) {
      Moments m = byDevice.get(weight.getDevice());
      if (m == null) {
        m = new Moments(weight, pending.get(parameterId));
        byDevice.put(weight.getDevice(), m);
      }
      return m;
    }
  }

  /** Update count so far: the 1-based index of the last optimizer step taken. */
  public synchronized long updateCount() {
    return numUpdate;
  }

  /** The completed steps of one parameter (0 before its first update). */
  public long step(String parameterId) {
    Map<Device, Moments> byDevice = states.get(parameterId);
    if (byDevice == null || byDevice.isEmpty()) {
      Pending p = pending.get(parameterId);
      return p == null ? 0 : p.step;
    }
    synchronized (byDevice) {
      return byDevice.values().iterator().next().step;
    }
  }

  /**
   * Copies the state of the given parameters into {@code manager}, keyed by their names in {@code
   * parameters} (e.g. {@code block.getParameters()}), which, unlike DJL's parameter ids, are stable
   * across runs. Parameters not updated yet are left out.
   */
  public AdamWState exportState(NDManager manager, List<Pair<String, Parameter>> parameters) {
    Map<String, AdamWState.ParameterState> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> entry : parameters) {
      String id = entry.getValue().getId();
      Map<Device, Moments> byDevice = states.get(id);
      if (byDevice != null && !byDevice.isEmpty()) {
        synchronized (byDevice) {
          Moments m = byDevice.values().iterator().next();
          out.put(
              entry.getKey(),
              new AdamWState.ParameterState(
                  m.step, copy(m.expAvg, manager), copy(m.expAvgSq, manager)));
        }
      } else if (pending.containsKey(id)) {
        Pending p = pending.get(id);
        out.put(
            entry.getKey(),
            new AdamWState.ParameterState(
                p.step, copy(p.expAvg, manager), copy(p.expAvgSq, manager)));
      }
    }
    long count;
    synchronized (this) {
      count = numUpdate;
    }
    return new AdamWState(count, out);
  }

  /**
   * Restores a state exported by {@link #exportState} for the named parameters. It must be called
   * before the parameters' first update; the moments are copied into each parameter's manager at
   * that update. Every state entry must name a parameter in {@code parameters}.
   */
  public void importState(AdamWState state, List<Pair<String, Parameter>> parameters) {
    if (!states.isEmpty()) {
      throw new IllegalStateException("importState must be called before the first update");
    }
    Map<String, Parameter> byName = new HashMap<>();
    for (Pair<String, Parameter> entry : parameters) {
      byName.put(entry.getKey(), entry.getValue());
    }
    for (Map.Entry<String, AdamWState.ParameterState> e : state.parameters().entrySet()) {
      Parameter p = byName.get(e.getKey());
      if (p == null) {
        throw new IllegalArgumentException(
            "optimizer state names parameter '" + e.getKey() + "', which the model does not have");
      }
      AdamWState.ParameterState s = e.getValue();
      if (p.isInitialized() && !p.getArray().getShape().equals(s.expAvg().getShape())) {
        throw new IllegalArgumentException(
            "optimizer state of '"
                + e.getKey()
                + "' has shape "
                + s.expAvg().getShape()
                + ", the parameter has "
                + p.getArray().getShape());
      }
      pending.put(p.getId(), new Pending(s.step(), s.expAvg(), s.expAvgSq()));
    }
    synchronized (this) {
      numUpdate = state.updateCount();
    }
  }

  private static NDArray copy(NDArray array, NDManager manager) {
    NDArray c = array.toDevice(manager.getDevice(), true);
    c.attach(manager);
    NDScope.unregister(c);
    return c;
  }

  /** Per-parameter, per-device moments, allocated in the parameter's manager. */
  private static final class Moments {
    long step;
    final NDArray expAvg;
    final NDArray expAvgSq;

    Moments(NDArray weight, Pending restored) {
      if (restored == null) {
        expAvg = weight.zerosLike();
        expAvgSq = weight.zerosLike();
      } else {
        if (!restored.expAvg.getShape().equals(weight.getShape())) {
          throw new IllegalArgumentException(
              "restored optimizer state has shape "
                  + restored.expAvg.getShape()
                  + " for a parameter of shape "
                  + weight.getShape());
        }
        step = restored.step;
        expAvg = like(restored.expAvg, weight);
        expAvgSq = like(restored.expAvgSq, weight);
      }
      NDScope.unregister(expAvg, expAvgSq);
    }

    private static NDArray like(NDArray source, NDArray weight) {
      NDArray out = source.toDevice(weight.getDevice(), true).toType(weight.getDataType(), false);
      out.attach(weight.getManager());
      return out;
    }
  }

  private record Pending(long step, NDArray expAvg, NDArray expAvgSq) {}

  /** Builder: {@code optX} setters for the hyper-parameters, PyTorch's defaults otherwise. */
  public static final class Builder extends OptimizerBuilder<Builder> {
    private LrSchedule schedule = LrSchedule.constant(1e-3);
    private ParameterTracker tracker;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay;

    Builder() {}

    @Override
    protected Builder self() {
      return this;
    }

    /** A constant learning rate. */
    public Builder optLearningRate(double learningRate) {
      return optLearningRate(LrSchedule.constant(learningRate));
    }

    /** A learning-rate schedule, evaluated in double precision. */
    public Builder optLearningRate(LrSchedule schedule) {
      if (schedule == null) {
        throw new IllegalArgumentException("schedule must not be null");
      }
      this.schedule = schedule;
      this.tracker = null;
      return this;
    }

    /** Any DJL tracker (float precision), given the 1-based update count. */
    public Builder optLearningRateTracker(ParameterTracker tracker) {
      if (tracker == null) {
        throw new IllegalArgumentException("tracker must not be null");
      }
      this.tracker = tracker;
      this.schedule = null;
      return this;
    }

    /** The moment decay rates, default (0.9, 0.999). */
    public Builder optBetas(double beta1, double beta2) {
      if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
        throw new IllegalArgumentException(
            "betas must be in [0, 1), got " + beta1 + " and " + beta2);
      }
      this.beta1 = beta1;
      this.beta2 = beta2;
      return this;
    }

    /** The denominator term, default 1e-8. */
    public Builder optEpsilon(double eps) {
      if (!(eps >= 0) || Double.isInfinite(eps)) {
        throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
      }
      this.eps = eps;
      return this;
    }

    /** The decoupled weight decay, default 0 (the reference's {@code --weight-decay}). */
    public Builder optWeightDecay(double weightDecay) {
      if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
        throw new IllegalArgumentException(
            "weight decay must be finite and >= 0, got " + weightDecay);
      }
      this.weightDecay = weightDecay;
      return this;
    }

    /** Same as {@link #optWeightDecay(double)}; DJL's name. */
    @Override
    public Builder optWeightDecays(float weightDecays) {
      super.optWeightDecays(weightDecays);
      return optWeightDecay(weightDecays);
    }

    /** Builds the optimizer. */
    public PyTorchAdamW build() {
      return new PyTorchAdamW(this);
    }
  }
}
