package dev.drivekd.teachers.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.engine.HostData;

/**
 * One sample's target as stored: a float32 matrix of {@code rows × cols} values, row-major. For
 * {@link TargetKind#TEXT_TO_VISION} the rows are the sample's text positions and the columns its
 * vision positions; for {@link TargetKind#FULL_MAP} it is the {@code [len, len]} map.
 *
 * @param key teacher, signal and layer
 * @param kind what the matrix holds
 * @param rows number of rows
 * @param cols number of columns
 * @param values {@code rows·cols} values (not copied)
 */
public record CachedTarget(TargetKey key, TargetKind kind, int rows, int cols, float[] values) {

  /** Checks that the values fill the shape. */
  public CachedTarget {
    if (rows < 0 || cols < 0 || values == null || (long) rows * cols != values.length) {
      throw new IllegalArgumentException(
          key
              + ": "
              + (values == null ? "no" : values.length)
              + " values do not fill a "
              + rows
              + " x "
              + cols
              + " target");
    }
  }

  /** The matrix as a {@code [rows, cols]} float32 array in {@code manager}. */
  public NDArray toNDArray(NDManager manager) {
    return HostData.floats(manager, values, new Shape(rows, cols));
  }
}
