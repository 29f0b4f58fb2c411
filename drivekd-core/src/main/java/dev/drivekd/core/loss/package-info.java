/**
 * Distillation losses on DJL NDArrays: masked text-to-vision and full-map attention losses,
 * capability losses, Table 3 variants (cosine, hidden state, logit KL) and answer-token CE.
 */
package dev.drivekd.core.loss;
