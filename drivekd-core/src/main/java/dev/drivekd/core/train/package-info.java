/**
 * The Drive-KD trainer (method.md 9): {@code DistillationTrainer} (the epoch loop, its builder and
 * its listeners), the micro-step of one sample or micro-batch ({@code DistillationStep}), the
 * accumulation window and its optimizer update, the recipe of signals and losses per capability,
 * the teachers' targets (live or cached), the run's configuration, seeds and checkpoints. The
 * building blocks live in sub-packages by concern: {@code optimizer} (PyTorch-exact AdamW, gradient
 * clipping), {@code schedule} (learning rate, accumulation windows), {@code weighting} (static and
 * dynamic loss weights, the teacher mixing matrix, task keys), {@code checkpoint} and {@code
 * listener}.
 */
package dev.drivekd.core.train;
