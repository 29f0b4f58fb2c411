package dev.drivekd.core.attention;

import java.util.Optional;

/**
 * A layer index or range that does not fit a model's depth, with the reference's error kind and,
 * for a layer-group mapping, the side (student or teacher) whose resolution failed.
 */
public final class LayerIndexException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** Why a layer index could not be resolved (the reference's error kinds). */
  public enum Kind {
    /** The resolved index is outside {@code [0, depth)}. */
    INDEX_OUT_OF_RANGE("index_out_of_range"),
    /** The resolved start of an inclusive range lies after its end. */
    START_AFTER_END("start_after_end");

    private final String referenceName;

    Kind(String referenceName) {
      this.referenceName = referenceName;
    }

    /** The name used in the golden files ({@code index_out_of_range}, ...). */
    public String referenceName() {
      return referenceName;
    }
  }

  /** Which model's depth an index was resolved against. */
  public enum Side {
    /** The student model. */
    STUDENT("student"),
    /** The teacher model. */
    TEACHER("teacher");

    private final String referenceName;

    Side(String referenceName) {
      this.referenceName = referenceName;
    }

    /** The name used in the golden files ({@code student} or {@code teacher}). */
    public String referenceName() {
      return referenceName;
    }
  }

  private final Kind kind;
  private final Side side;
  private final String detail;

  LayerIndexException(Kind kind, String detail) {
    this(kind, null, detail);
  }

  private LayerIndexException(Kind kind, Side side, String detail) {
    super(side == null ? detail : side.referenceName() + " layers: " + detail);
    this.kind = kind;
    this.side = side;
    this.detail = detail;
  }

  /** The error kind. */
  public Kind kind() {
    return kind;
  }

  /** The side whose resolution failed, when known. */
  public Optional<Side> side() {
    return Optional.ofNullable(side);
  }

  /** The same error, attributed to {@code side}. */
  LayerIndexException on(Side side) {
    return new LayerIndexException(kind, side, detail);
  }
}
