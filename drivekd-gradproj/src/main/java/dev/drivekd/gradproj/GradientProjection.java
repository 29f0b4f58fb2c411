package dev.drivekd.gradproj;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Combines K task gradients into one update. Factories give the plain weighted sum, Asymmetric
 * Gradient Projection (Drive-KD, arXiv 2601.21288, method.md 4.3-4.4) and its ablations G1 and G2,
 * and PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning").
 *
 * <p>Every method works on the K x K Gram matrices of the task gradients (one per support pattern,
 * read to the host in one synchronisation) and writes the result with one pass per parameter
 * tensor; parameters are never flattened into one vector.
 */
public abstract class GradientProjection {
  boolean dense;
  boolean averageCapabilities;
  int refreshEvery = 1;
  final ShuffleRandom random = new ShuffleRandom(42);

  GradientProjection() {}

  /** The weighted sum {@code sum_k w_k g_k}: no projection, no host synchronisation. */
  public static GradientProjection none() {
    return new WeightedSum();
  }

  /** Asymmetric Gradient Projection: stage 1 (CE anchor vs each follower), then stage 2. */
  public static GradientProjection agp() {
    return new AsymmetricProjection(true, true);
  }

  /** G1 of the paper's Table 3: stage 1 only; the merged vectors are summed. */
  public static GradientProjection stage1Only() {
    return new AsymmetricProjection(true, false);
  }

  /** G2 of the paper's Table 3: no anchor projection; stage 2 on the merged vectors. */
  public static GradientProjection stage2Only() {
    return new AsymmetricProjection(false, true);
  }

  /** PCGrad over all K tasks (anchor included), with a fresh random order per task. */
  public static GradientProjection pcgrad() {
    return new PcGrad();
  }

  /**
   * Textbook projection on every parameter: a follower absent on a parameter counts as zero there
   * and still loses the anchor's component. Off by default (parity with the reference, which
   * projects only on the follower's support).
   */
  public GradientProjection optDense(boolean denseProjection) {
    this.dense = denseProjection;
    return this;
  }

  /**
   * AGP family only: divides the sum of the capability vectors by their number, so that the anchor
   * counts once instead of once per capability. Off by default (parity).
   */
  public GradientProjection optAverageCapabilities(boolean average) {
    this.averageCapabilities = average;
    return this;
  }

  /**
   * Amortised projection: a training loop runs the full combine (one backward per task) on every
   * {@code microSteps}-th micro-step of a kind and, on the micro-steps in between, a single
   * backward of the task losses weighted by the last combine's {@link
   * CombinedGradient#lossCoefficients() loss coefficients} (relative to the task weights, so that
   * another sample's mixing entries still apply). 1 (the default) combines every micro-step. The
   * combine itself is unchanged; this is a contract with the loop (drivekd's trainer honours it).
   */
  public GradientProjection optRefreshEvery(int microSteps) {
    if (microSteps < 1) {
      throw new IllegalArgumentException(
          "the projection's refresh interval must be >= 1 micro-step, got " + microSteps);
    }
    this.refreshEvery = microSteps;
    return this;
  }

  /** Micro-steps per full combine ({@link #optRefreshEvery}); 1 when not amortised. */
  public int refreshEvery() {
    return refreshEvery;
  }

  /** Seeds the generator of the stage-2 orders (default 42). */
  public GradientProjection optSeed(long seed) {
    random.restore(seed);
    return this;
  }

  /** The generator of the stage-2 orders, for checkpoints. */
  public ShuffleRandom random() {
    return random;
  }

  /** The method's name as in reports and logs. */
  public abstract String name();

  /**
   * What decides this projection's result besides its inputs and seed: the method and its options,
   * in a fixed order (a run's provenance records them).
   */
  public Map<String, Object> options() {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("method", name());
    options.put("dense", dense);
    options.put("averageCapabilities", averageCapabilities);
    if (refreshEvery > 1) { // absent when not amortised: older runs' provenance stays comparable
      options.put("refreshEvery", refreshEvery);
    }
    return options;
  }

  /**
   * Combines the snapshot: the returned gradient is formed lazily per parameter tensor.
   *
   * @throws NonFiniteGradientException if a task gradient holds NaN or infinity
   */
  public final CombinedGradient combine(TaskGradients gradients) {
    boolean fresh = !gradients.hasGram();
    GramMatrices gram =
        needsDotProducts() ? gradients.gram() : GramMatrices.patternsOnly(gradients);
    int syncs = needsDotProducts() && fresh ? 1 : 0;
    if (needsDotProducts() && gram.hasNonFinite()) {
      List<String> bad = new ArrayList<>();
      for (int k : gram.nonFiniteTasks()) {
        bad.add(gradients.tasks().get(k));
      }
      throw new NonFiniteGradientException(bad.isEmpty() ? gradients.tasks() : bad);
    }
    GramMatrices view = dense && needsDotProducts() ? gram.dense() : gram;
    Outcome outcome = combine(gradients, view);
    ProjectionReport report =
        new ProjectionReport(name(), outcome.stage2Order, outcome.stage1, outcome.stage2, syncs);
    return new CombinedGradient(gradients, view, outcome.total, report);
  }

  abstract boolean needsDotProducts();

  abstract Outcome combine(TaskGradients gradients, GramMatrices gram);

  /**
   * The projection primitive of method.md 4.3: if {@code <f, a> < 0}, remove from {@code f} its
   * component along {@code a} on {@code f}'s support; otherwise return {@code f}.
   */
  static Combination project(
      Combination f,
      Combination a,
      GramMatrices gram,
      String fName,
      String aName,
      List<ProjectionStep> log) {
    double dot = f.dot(a, gram);
    if (dot >= 0) {
      log.add(new ProjectionStep(fName, aName, dot, false, Double.NaN, Double.NaN));
      return f;
    }
    double norm = Math.max(a.normSquared(gram), 1e-20);
    double coef = dot / norm;
    log.add(new ProjectionStep(fName, aName, dot, true, norm, coef));
    return f.minusOnSupport(coef, a);
  }

  /** Weighted task vectors {@code w_k g_k}. */
  static List<Combination> weighted(TaskGradients g, GramMatrices gram) {
    List<Combination> out = new ArrayList<>();
    for (int k = 0; k < g.taskCount(); k++) {
      out.add(Combination.task(gram, k, g.weight(k)));
    }
    return out;
  }

  /** What a method computed, before it becomes a {@link CombinedGradient}. */
  static final class Outcome {
    final Combination total;
    final List<String> stage2Order;
    final List<ProjectionStep> stage1;
    final List<ProjectionStep> stage2;

    Outcome(
        Combination total,
        List<String> stage2Order,
        List<ProjectionStep> stage1,
        List<ProjectionStep> stage2) {
      this.total = total;
      this.stage2Order = List.copyOf(stage2Order);
      this.stage1 = List.copyOf(stage1);
      this.stage2 = List.copyOf(stage2);
    }
  }
}
