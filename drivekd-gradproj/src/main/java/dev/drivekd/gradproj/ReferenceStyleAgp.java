package dev.drivekd.gradproj;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * A direct transcription of the reference implementation's AGP (trainer.py L1310-1382): full
 * per-parameter copies of every intermediate vector, and each dot product read to the host one
 * tensor at a time. It is slow on purpose: the side-by-side anchor of the gradproj benchmark and an
 * independent oracle for tests. Use {@link GradientProjection#agp()} for training.
 */
public final class ReferenceStyleAgp {
  private final NDManager manager;
  private int hostSyncs;

  /** Works in {@code manager}; every array it creates is attached there. */
  public ReferenceStyleAgp(NDManager manager) {
    this.manager = manager;
  }

  /** Host synchronisations made so far (one per tensor per dot product). */
  public int hostSynchronisations() {
    return hostSyncs;
  }

  /**
   * AGP of weighted task gradients. {@code weighted.get(0)} is the anchor; each inner list has one
   * entry per parameter, {@code null} = absent. {@code order} lists follower indices (1-based into
   * {@code weighted}) in stage-2 order. Returns the per-parameter total, {@code null} where every
   * contribution is absent.
   */
  public List<NDArray> combine(List<List<NDArray>> weighted, List<Integer> order) {
    List<NDArray> anchor = weighted.get(0);
    int followers = weighted.size() - 1;
    if (followers == 0) {
      return copy(anchor);
    }
    List<List<NDArray>> merged = new ArrayList<>();
    merged.add(null);
    for (int k = 1; k <= followers; k++) {
      merged.add(sum(anchor, project(weighted.get(k), anchor)));
    }
    List<NDArray> total = null;
    for (int ci : order) {
      List<NDArray> t = merged.get(ci);
      for (int cj : order) {
        if (cj != ci) {
          t = project(t, merged.get(cj));
        }
      }
      total = total == null ? copy(t) : sum(total, t);
    }
    return total;
  }

  /** The reference's {@code proj(f, a)}: f unchanged unless {@code <f,a> < 0}. */
  public List<NDArray> project(List<NDArray> f, List<NDArray> a) {
    double dot = 0;
    double norm = 0;
    for (int p = 0; p < f.size(); p++) {
      if (f.get(p) != null && a.get(p) != null) {
        dot += hostSum(f.get(p).mul(a.get(p)));
      }
    }
    if (dot >= 0) {
      return f;
    }
    for (NDArray x : a) {
      if (x != null) {
        norm += hostSum(x.mul(x));
      }
    }
    double coef = dot / Math.max(norm, 1e-20);
    List<NDArray> out = new ArrayList<>();
    for (int p = 0; p < f.size(); p++) {
      NDArray fp = f.get(p);
      NDArray ap = a.get(p);
      out.add(fp == null ? null : ap == null ? fp : attach(fp.sub(ap.mul(coef)))); // no graph
    }
    return out;
  }

  /** None-aware element-wise sum. */
  public List<NDArray> sum(List<NDArray> x, List<NDArray> y) {
    List<NDArray> out = new ArrayList<>();
    for (int p = 0; p < x.size(); p++) {
      NDArray a = x.get(p);
      NDArray b = y.get(p);
      out.add(a == null ? copyOf(b) : b == null ? copyOf(a) : attach(a.add(b)));
    }
    return out;
  }

  private List<NDArray> copy(List<NDArray> x) {
    List<NDArray> out = new ArrayList<>();
    for (NDArray a : x) {
      out.add(copyOf(a));
    }
    return out;
  }

  private NDArray copyOf(NDArray a) {
    return a == null ? null : attach(a.duplicate());
  }

  private double hostSum(NDArray product) {
    try (product;
        NDArray s = product.sum()) {
      hostSyncs++;
      return s.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
    }
  }

  private NDArray attach(NDArray a) {
    a.attach(manager);
    return a;
  }
}
