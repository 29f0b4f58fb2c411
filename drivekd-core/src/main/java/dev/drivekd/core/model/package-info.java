/**
 * The {@link dev.drivekd.core.model.VisionLanguageModel} contract that students and teachers share,
 * whatever builds them (the native family in {@code dev.drivekd.core.model.internvl}, a TorchScript
 * import in drivekd-teachers): one forward returns logits and the attention maps of exactly the
 * layers a {@link dev.drivekd.core.model.ForwardRequest} names.
 */
package dev.drivekd.core.model;
