package dev.drivekd.core.loss;

import ai.djl.ndarray.NDArray;
import dev.drivekd.core.attention.LayerGroup;

/**
 * One student layer's term of a layer-wise attention loss: the layer group and its per-sample
 * values {@code [B]} (the reference's {@code intermediate_per_layer} entries).
 *
 * @param group the student layer and its teacher group
 * @param perSample {@code [B]}
 */
public record LayerTerm(LayerGroup group, NDArray perSample) {}
