/**
 * Run checkpoints: a {@link dev.drivekd.core.train.checkpoint.CheckpointStore} that writes every
 * part of the training state (student weights, optimizer, loss weights, accumulation, random
 * states, step counters, provenance) atomically into {@code step-NNNNNN/} folders with a
 * checksummed manifest, and reads them back bit for bit.
 */
package dev.drivekd.core.train.checkpoint;
