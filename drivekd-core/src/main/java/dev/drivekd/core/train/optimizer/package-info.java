/**
 * The student's optimizer (method.md 4.5, 5): {@link
 * dev.drivekd.core.train.optimizer.PyTorchAdamW}, AdamW with {@code torch.optim.AdamW}'s exact
 * semantics and checkpointable state, and global-norm gradient clipping.
 */
package dev.drivekd.core.train.optimizer;
