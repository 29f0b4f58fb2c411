/**
 * The teacher-target cache: precomputed teacher attention targets on disk (checksummed chunks, a
 * versioned index recording recipe, teachers and dataset), read back one chunk at a time, and the
 * helpers that cut a text-to-vision block out of a map and place it back for the losses.
 */
package dev.drivekd.teachers.cache;
