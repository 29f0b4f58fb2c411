/**
 * How much each task counts (method.md 2.4, 3): the task keys ({@code ce} and one per capability),
 * static and dynamic loss weights ({@link dev.drivekd.core.train.weighting.LossWeighting}, the
 * reference's online balancer in float32) and the teacher mixing matrix that weights each teacher
 * per sample capability.
 */
package dev.drivekd.core.train.weighting;
