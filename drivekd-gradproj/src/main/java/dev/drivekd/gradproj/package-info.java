/**
 * Combination of several task gradients into one update: weighted sum, Asymmetric Gradient
 * Projection (Drive-KD, arXiv 2601.21288) and PCGrad (Yu et al. 2020). Knows nothing about
 * distillation; useful to any multi-task DJL training loop.
 */
package dev.drivekd.gradproj;
