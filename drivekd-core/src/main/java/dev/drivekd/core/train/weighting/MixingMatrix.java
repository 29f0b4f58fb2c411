package dev.drivekd.core.train.weighting;

import dev.drivekd.core.data.Capability;
import dev.drivekd.gradproj.TaskGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The teacher mixing matrix of Drive-KD (method.md 2.4; trainer.py L834-886, L1284-1308): one row
 * per sample capability (the question type), one column per teacher (perception, reasoning,
 * planning). Rows are normalised, {@code R̂[q][t] = R[q][t] / Σ_t' R[q][t']}. Mixing is loss-level:
 * a sample of type {@code q} scales teacher {@code t}'s gradient by {@code R̂[q][t]}; teacher maps
 * are never averaged.
 *
 * <p>A teacher is active for a sample when its mix is positive and its loss key has a non-zero
 * static weight. A sample with no active teacher still trains its cross-entropy (the reference
 * trains nothing then; see architecture.md).
 *
 * <p>Unlike the reference, which clamps negative entries to 0, a negative entry is rejected: it is
 * almost certainly a typo, and silently dropping it changes the recipe.
 */
public final class MixingMatrix {
  private static final int N = 3;

  private final double[][] raw;
  private final double[][] normalised;

  private MixingMatrix(double[][] rows) {
    if (rows == null || rows.length != N) {
      throw new IllegalArgumentException(
          "a mixing matrix has 3 rows (perception, reasoning, planning samples), got "
              + (rows == null ? "null" : rows.length));
    }
    raw = new double[N][];
    normalised = new double[N][N];
    for (int q = 0; q < N; q++) {
      raw[q] = validRow(rows[q], "mixing row '" + Capability.ofIndex(q).key() + "'");
      double sum = 0;
      for (double v : raw[q]) {
        sum += Math.max(0.0, v);
      }
      for (int t = 0; t < N; t++) {
        normalised[q][t] = Math.max(0.0, raw[q][t]) / sum;
      }
    }
  }

  private static double[] validRow(double[] row, String what) {
    if (row == null || row.length != N) {
      throw new IllegalArgumentException(
          what
              + " needs 3 entries (perception, reasoning, planning teacher), got "
              + (row == null ? "null" : Arrays.toString(row)));
    }
    boolean positive = false;
    for (int t = 0; t < N; t++) {
      double v = row[t];
      String column = Capability.ofIndex(t).key() + " teacher";
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException(
            what + ": entry for the " + column + " is not finite (" + v + ")");
      }
      if (v < 0) {
        throw new IllegalArgumentException(
            what + ": entry for the " + column + " is negative (" + v + "); entries must be >= 0");
      }
      positive |= v > 0;
    }
    if (!positive) {
      throw new IllegalArgumentException(
          what + " is all zero " + Arrays.toString(row) + "; at least one entry must be > 0");
    }
    return row.clone();
  }

  /** A matrix from its three rows, for perception, reasoning and planning samples. */
  public static MixingMatrix of(double[] perception, double[] reasoning, double[] planning) {
    return new MixingMatrix(new double[][] {perception, reasoning, planning});
  }

  /**
   * The released recipe's rows (train.py {@code --mix-*} defaults): 0.8 on the sample's own teacher
   * and 0.1 on each other.
   */
  public static MixingMatrix paperDefault() {
    return of(
        new double[] {0.8, 0.1, 0.1}, new double[] {0.1, 0.8, 0.1}, new double[] {0.1, 0.1, 0.8});
  }

  /**
   * Each sample learns from its own capability's teacher only (a specialist per capability, no
   * cross-teaching). The trainer's default is {@link #paperDefault()}.
   */
  public static MixingMatrix identity() {
    return of(new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1});
  }

  /** The same row for every sample type (the trainer replicates a single given row). */
  public static MixingMatrix replicated(double[] row) {
    return of(row, row, row);
  }

  /**
   * Parses a row as train.py's {@code --mix-*} options write it: three comma-separated numbers,
   * e.g. {@code "0.8,0.1,0.1"}; blank parts are skipped, as in {@code _parse_float_triplet}.
   */
  public static double[] parseRow(String text, String field) {
    if (text == null) {
      throw new IllegalArgumentException(field + " must not be null");
    }
    List<Double> values = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      try {
        values.add(Double.parseDouble(p));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            field + " must contain 3 comma-separated numbers, got '" + text + "'", e);
      }
    }
    if (values.size() != N) {
      throw new IllegalArgumentException(
          field + " must contain exactly 3 comma-separated values, got '" + text + "'");
    }
    double[] row = new double[N];
    for (int i = 0; i < N; i++) {
      row[i] = values.get(i);
    }
    validRow(row, field);
    return row;
  }

  /** The row as given for samples of {@code sample}'s type. */
  public double[] rawRow(Capability sample) {
    return raw[sample.index()].clone();
  }

  /** The normalised row {@code R̂[q]} for samples of {@code sample}'s type. */
  public double[] row(Capability sample) {
    return normalised[sample.index()].clone();
  }

  /** {@code R̂[sample][teacher]}. */
  public double mix(Capability sample, Capability teacher) {
    return normalised[sample.index()][teacher.index()];
  }

  /**
   * The teachers that train on a sample of type {@code sample}, in teacher order: positive mix and
   * a non-zero static weight for the teacher's loss key. May be empty (the sample then trains CE).
   */
  public List<Capability> activeTeachers(Capability sample, Map<String, Double> staticWeights) {
    List<Capability> active = new ArrayList<>();
    for (Capability teacher : Capability.values()) {
      Double w = staticWeights.get(TaskKeys.of(teacher));
      if (mix(sample, teacher) > 0 && w != null && w != 0.0) {
        active.add(teacher);
      }
    }
    return Collections.unmodifiableList(active);
  }

  /** {@link #activeTeachers(Capability, Map)} with the weighting's static weights. */
  public List<Capability> activeTeachers(Capability sample, LossWeighting weighting) {
    return activeTeachers(sample, weighting.staticWeights());
  }

  /** The backward order of a sample's tasks: {@code ce}, then the active teachers' keys. */
  public List<String> taskOrder(Capability sample, LossWeighting weighting) {
    List<String> order = new ArrayList<>();
    order.add(TaskKeys.CE);
    for (Capability teacher : activeTeachers(sample, weighting)) {
      order.add(TaskKeys.of(teacher));
    }
    return Collections.unmodifiableList(order);
  }

  /**
   * The scalar each task's gradient is multiplied by for a sample of type {@code sample}: {@code
   * w_ce} for CE and {@code float32(w_k · R̂[q][t(k)])} for each active teacher (float32 product,
   * as the reference's weight tensors compute it). {@code lossWeights} are the current weights of
   * the window ({@link LossWeighting#currentWeights()}).
   */
  public Map<String, Float> taskWeights(
      Capability sample, Map<String, Float> lossWeights, List<Capability> activeTeachers) {
    Map<String, Float> out = new LinkedHashMap<>();
    out.put(TaskKeys.CE, require(lossWeights, TaskKeys.CE));
    for (Capability teacher : activeTeachers) {
      String key = TaskKeys.of(teacher);
      out.put(key, require(lossWeights, key) * (float) mix(sample, teacher));
    }
    return Collections.unmodifiableMap(out);
  }

  /** {@link #taskWeights(Capability, Map, List)} for the sample's active teachers. */
  public Map<String, Float> taskWeights(Capability sample, LossWeighting weighting) {
    return taskWeights(
        sample, weighting.currentWeights(), activeTeachers(sample, weighting.staticWeights()));
  }

  /**
   * Sets every task weight of {@code gradients} (its task names are task keys, ce first) for a
   * sample of type {@code sample}; a task whose teacher is inactive for this sample is rejected.
   */
  public void applyTo(TaskGradients gradients, Capability sample, LossWeighting weighting) {
    Map<String, Float> weights = taskWeights(sample, weighting);
    for (String task : gradients.tasks()) {
      Float w = weights.get(task);
      if (w == null) {
        throw new IllegalArgumentException(
            "Task '"
                + task
                + "' is not active for a "
                + sample.key()
                + " sample; active tasks are "
                + weights.keySet());
      }
      gradients.weight(task, w);
    }
  }

  private static float require(Map<String, Float> weights, String key) {
    Float w = weights.get(key);
    if (w == null) {
      throw new IllegalArgumentException(
          "no loss weight for task '" + key + "'; weights given for " + weights.keySet());
    }
    return w;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("MixingMatrix[");
    for (int q = 0; q < N; q++) {
      if (q > 0) {
        sb.append(", ");
      }
      sb.append(Capability.ofIndex(q).key().toLowerCase(Locale.ROOT))
          .append('=')
          .append(Arrays.toString(raw[q]));
    }
    return sb.append(']').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MixingMatrix && Arrays.deepEquals(raw, ((MixingMatrix) o).raw);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(raw);
  }
}
