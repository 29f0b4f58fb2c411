package dev.drivekd.core.train;

import dev.drivekd.gradproj.LossCoefficients;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory of an amortised projection ({@code GradientProjection.optRefreshEvery(T)}): per kind
 * of micro-step, what its last full combine left for the micro-steps that reuse it.
 *
 * <p>A kind is the micro-step's task list plus, for a single sample, its capability: the samples of
 * one kind share their mixing row, so the combine's multipliers relative to the task weights carry
 * over from one to the next. Each kind combines on its first micro-step and then on every T-th; a
 * micro-step that was skipped (non-finite loss or gradient) makes the next one of its kind a full
 * step. With T = 1 nothing is remembered and every micro-step combines.
 */
final class CoefficientReuse {
  private static final int FORMAT = 1;

  private final int every;
  private final Map<String, Entry> kinds = new LinkedHashMap<>();

  /** What one kind reuses. */
  static final class Entry {
    final List<String> tasks;

    /** Loss multipliers relative to the task weights of the combine ({@code c_k / w_k}). */
    final double[] relative;

    /** Each task's gradient norm at the combine, per unit of loss scale (for dynamic weights). */
    final double[] normsPerScale;

    /** The parameters the combined gradient reached (those a reused step adds). */
    final boolean[] reached;

    /** The cosine of the one-backward fit at the combine (1 where exact). */
    final double fitCosine;

    int sinceRefresh;

    Entry(
        List<String> tasks,
        double[] relative,
        double[] normsPerScale,
        boolean[] reached,
        double fitCosine,
        int sinceRefresh) {
      this.tasks = List.copyOf(tasks);
      this.relative = relative.clone();
      this.normsPerScale = normsPerScale.clone();
      this.reached = reached.clone();
      this.fitCosine = fitCosine;
      this.sinceRefresh = sinceRefresh;
    }
  }

  CoefficientReuse(int every) {
    if (every < 1) {
      throw new IllegalArgumentException("refresh interval must be >= 1, got " + every);
    }
    this.every = every;
  }

  /** Whether micro-steps ever reuse coefficients (T > 1). */
  boolean enabled() {
    return every > 1;
  }

  /** Micro-steps per full combine. */
  int every() {
    return every;
  }

  /** The kind of a micro-step: its tasks, and the capability key of a single sample. */
  static String kindOf(List<String> tasks, String singleCapability) {
    return String.join(",", tasks) + (singleCapability == null ? "" : "|" + singleCapability);
  }

  /** The entry a micro-step of {@code kind} reuses, or {@code null} when it must combine. */
  Entry reusable(String kind) {
    if (!enabled()) {
      return null;
    }
    Entry e = kinds.get(kind);
    return e != null && e.sinceRefresh < every ? e : null;
  }

  /** The entry of {@code kind}, reusable or not (its multipliers give the drift on refresh). */
  Entry last(String kind) {
    return kinds.get(kind);
  }

  /** Remembers a full combine of {@code kind}. */
  void refreshed(
      String kind, LossCoefficients fit, double[] norms, double lossScale, boolean[] reached) {
    if (!enabled()) {
      return;
    }
    double[] perScale = new double[norms.length];
    for (int k = 0; k < norms.length; k++) {
      perScale[k] = norms[k] / lossScale;
    }
    kinds.put(
        kind,
        new Entry(fit.tasks(), fit.relativeToWeights(), perScale, reached, fit.fitCosine(), 1));
  }

  /** Counts a micro-step that reused {@code entry}. */
  void reused(Entry entry) {
    entry.sinceRefresh++;
  }

  /** Makes the next micro-step of {@code kind} a full combine. */
  void expire(String kind) {
    Entry e = kinds.get(kind);
    if (e != null) {
      e.sinceRefresh = every;
    }
  }

  /** The state for a checkpoint (a versioned binary form). */
  byte[] exportState() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(FORMAT);
      out.writeInt(every);
      out.writeInt(kinds.size());
      for (Map.Entry<String, Entry> k : kinds.entrySet()) {
        Entry e = k.getValue();
        out.writeUTF(k.getKey());
        out.writeInt(e.tasks.size());
        for (int t = 0; t < e.tasks.size(); t++) {
          out.writeUTF(e.tasks.get(t));
          out.writeDouble(e.relative[t]);
          out.writeDouble(e.normsPerScale[t]);
        }
        out.writeInt(e.reached.length);
        for (boolean r : e.reached) {
          out.writeBoolean(r);
        }
        out.writeDouble(e.fitCosine);
        out.writeInt(e.sinceRefresh);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Restores {@link #exportState()}'s form; an interval other than this run's is refused by the
   * configuration check before this point, and is refused here too.
   *
   * @param parameters the run's parameter count (a state of another model is refused)
   */
  void restore(byte[] state, int parameters, String source) {
    kinds.clear();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
      int format = in.readInt();
      if (format != FORMAT) {
        throw new IllegalArgumentException(
            source + ": projection coefficients in format " + format + ", expected " + FORMAT);
      }
      int savedEvery = in.readInt();
      if (savedEvery != every) {
        throw new IllegalArgumentException(
            source
                + ": projection coefficients were saved with a refresh every "
                + savedEvery
                + " micro-steps, this run refreshes every "
                + every);
      }
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        String kind = in.readUTF();
        int tasks = in.readInt();
        List<String> names = new ArrayList<>();
        double[] relative = new double[tasks];
        double[] norms = new double[tasks];
        for (int t = 0; t < tasks; t++) {
          names.add(in.readUTF());
          relative[t] = in.readDouble();
          norms[t] = in.readDouble();
        }
        int params = in.readInt();
        if (params != parameters) {
          throw new IllegalArgumentException(
              source
                  + ": projection coefficients of kind '"
                  + kind
                  + "' cover "
                  + params
                  + " parameters, the student has "
                  + parameters);
        }
        boolean[] reached = new boolean[params];
        for (int p = 0; p < params; p++) {
          reached[p] = in.readBoolean();
        }
        double fit = in.readDouble();
        int since = in.readInt();
        kinds.put(kind, new Entry(names, relative, norms, reached, fit, since));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          source + ": projection coefficients are truncated or malformed (" + e + ")", e);
    }
  }
}
