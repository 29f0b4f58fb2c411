package dev.drivekd.teachers.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.HostData;
import java.util.List;

/**
 * Cuts the text-by-vision block out of a head-averaged attention map and places it back. For sample
 * {@code b} the block's rows are the text positions ({@code valid && !image}) and its columns the
 * vision positions, both in sequence order, so {@code block[r][c] = map[text[r], vision[c]]}. These
 * are exactly the pairs of the text-to-vision mask (method.md 1.3): a map rebuilt by {@link #place}
 * (zeros elsewhere) gives the masked text-to-vision losses the same value as the original map. Full
 * maps are cut to the sample's valid {@code [len, len]} square.
 */
public final class TextVisionBlock {

  private TextVisionBlock() {}

  /** The text positions of sample {@code b}, ascending. */
  public static int[] textPositions(TokenLayout layout, int b) {
    int[] out = new int[layout.length(b) - layout.imageTokenCount(b)];
    int n = 0;
    for (int i = 0; i < layout.length(b); i++) {
      if (layout.isText(b, i)) {
        out[n++] = i;
      }
    }
    return out;
  }

  /** The vision positions of sample {@code b}, ascending. */
  public static int[] visionPositions(TokenLayout layout, int b) {
    int[] out = new int[layout.imageTokenCount(b)];
    int n = 0;
    for (int i = 0; i < layout.length(b); i++) {
      if (layout.isImage(b, i)) {
        out[n++] = i;
      }
    }
    return out;
  }

  /**
   * Cuts sample {@code b}'s target of {@code kind} out of {@code maps}.
   *
   * @param maps {@code [B, L, L]} head-averaged maps of the batch (any float dtype)
   * @param layout the batch's layout
   * @param b the sample
   * @param key the key the target is stored under
   * @param kind the text-by-vision block or the full valid map
   */
  public static CachedTarget cut(
      NDArray maps, TokenLayout layout, int b, TargetKey key, TargetKind kind) {
    Shape shape = maps.getShape();
    int n = layout.paddedLength();
    if (shape.dimension() != 3
        || shape.get(0) != layout.batchSize()
        || shape.get(1) != n
        || shape.get(2) != n) {
      throw new IllegalArgumentException(
          key
              + ": maps must be [B, L, L] = ["
              + layout.batchSize()
              + ", "
              + n
              + ", "
              + n
              + "], got "
              + shape);
    }
    float[] map;
    try (NDArray one = maps.get(b);
        NDArray f32 = one.toType(DataType.FLOAT32, true)) {
      map = f32.toFloatArray();
    }
    return cut(map, n, layout, b, key, kind);
  }

  /** Cuts from one sample's row-major {@code [L, L]} map on the host. */
  public static CachedTarget cut(
      float[] map, int paddedLength, TokenLayout layout, int b, TargetKey key, TargetKind kind) {
    if (map.length != (long) paddedLength * paddedLength || paddedLength != layout.paddedLength()) {
      throw new IllegalArgumentException(
          key + ": a map of " + map.length + " values is not [L, L] with L = " + paddedLength);
    }
    int[] rows;
    int[] cols;
    if (kind == TargetKind.TEXT_TO_VISION) {
      rows = textPositions(layout, b);
      cols = visionPositions(layout, b);
    } else {
      rows = cols = range(layout.length(b));
    }
    float[] out = new float[rows.length * cols.length];
    for (int r = 0; r < rows.length; r++) {
      int base = rows[r] * paddedLength;
      for (int c = 0; c < cols.length; c++) {
        out[r * cols.length + c] = map[base + cols[c]];
      }
    }
    return new CachedTarget(key, kind, rows.length, cols.length, out);
  }

  /**
   * Places the targets of a batch back into {@code [B, L, L]} float32 maps with zeros elsewhere.
   *
   * @param targets one target per sample of {@code layout}, in batch order
   * @param layout the batch's layout; each target's shape must fit its sample
   * @param manager where the maps are created
   */
  public static NDArray place(List<CachedTarget> targets, TokenLayout layout, NDManager manager) {
    int batch = layout.batchSize();
    int n = layout.paddedLength();
    if (targets.size() != batch) {
      throw new IllegalArgumentException(
          targets.size() + " targets for a batch of " + batch + " samples");
    }
    float[] maps = new float[batch * n * n];
    for (int b = 0; b < batch; b++) {
      CachedTarget t = targets.get(b);
      int[] rows;
      int[] cols;
      if (t.kind() == TargetKind.TEXT_TO_VISION) {
        rows = textPositions(layout, b);
        cols = visionPositions(layout, b);
      } else {
        rows = cols = range(layout.length(b));
      }
      if (t.rows() != rows.length || t.cols() != cols.length) {
        throw new IllegalArgumentException(
            t.key()
                + " ("
                + t.kind()
                + "): a "
                + t.rows()
                + " x "
                + t.cols()
                + " target does not fit sample "
                + b
                + " ("
                + rows.length
                + " x "
                + cols.length
                + " expected); was it computed for another layout?");
      }
      int offset = b * n * n;
      for (int r = 0; r < rows.length; r++) {
        int base = offset + rows[r] * n;
        for (int c = 0; c < cols.length; c++) {
          maps[base + cols[c]] = t.values()[r * cols.length + c];
        }
      }
    }
    return HostData.floats(manager, maps, new Shape(batch, n, n));
  }

  private static int[] range(int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }
}
