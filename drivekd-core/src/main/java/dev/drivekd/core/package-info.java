/**
 * The Drive-KD vocabulary (arXiv 2601.21288): capabilities, driving samples and their prompts,
 * token layouts, attention signals, distillation losses and the training step.
 */
package dev.drivekd.core;
