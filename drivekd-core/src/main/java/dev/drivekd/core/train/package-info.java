/**
 * Training building blocks of Drive-KD (method.md 2.4, 3, 4.5, 5): learning-rate schedules, static
 * and dynamic loss weights, the teacher mixing matrix, PyTorch-exact AdamW, gradient clipping and
 * gradient-accumulation bookkeeping. {@code DistillationTrainer} composes them.
 */
package dev.drivekd.core.train;
