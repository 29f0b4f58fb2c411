package dev.drivekd.core.train.checkpoint;

import java.nio.file.Path;

/**
 * A checkpoint folder of a run directory (found by its name, not yet verified).
 *
 * @param name the folder name, e.g. {@code step-000120}
 * @param optimizerStep the optimizer step in its name
 * @param directory the folder
 */
public record StoredCheckpoint(String name, long optimizerStep, Path directory) {}
