package dev.drivekd.gradproj;

/**
 * One pairwise projection test: {@code target} against {@code against}, their dot product, and,
 * when it was negative, the floored squared norm of {@code against} and the coefficient removed.
 *
 * @param target the vector being projected
 * @param against the vector it was tested against
 * @param dot their dot product over the parameters where both are present
 * @param projected whether the dot was negative and the projection fired
 * @param againstNormSquaredFloored {@code max(|against|^2, 1e-20)}, or NaN when not projected
 * @param coefficient {@code dot / againstNormSquaredFloored}, or NaN when not projected
 */
public record ProjectionStep(
    String target,
    String against,
    double dot,
    boolean projected,
    double againstNormSquaredFloored,
    double coefficient) {}
