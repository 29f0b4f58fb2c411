/**
 * Attention signals of Drive-KD (arXiv 2601.21288): token layouts and their masks, head-averaged
 * layer maps, layer-index resolution and the sliding-window layer-group mapping.
 */
package dev.drivekd.core.attention;
