/**
 * The native InternVL3 family: a miniature of InternVL3 (InternViT encoder, 0.5 pixel shuffle,
 * {@code mlp1} projector, Qwen2 decoder with grouped-query attention) written as DJL blocks, whose
 * attention block returns the probabilities of exactly the requested layers. {@link
 * dev.drivekd.core.model.internvl.InternVlModel} implements the {@link
 * dev.drivekd.core.model.VisionLanguageModel} contract; {@link
 * dev.drivekd.core.model.internvl.InternVlConfig} holds the sizes and the presets.
 */
package dev.drivekd.core.model.internvl;
