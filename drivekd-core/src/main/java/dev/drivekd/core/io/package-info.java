/**
 * File formats drivekd reads and writes itself: the safetensors tensor container (Hugging Face's
 * weight format), so checkpoints open in Python and Python checkpoints open here.
 */
package dev.drivekd.core.io;
