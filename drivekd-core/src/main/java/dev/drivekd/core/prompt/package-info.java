/**
 * Prompt construction: chat markers, image placeholder injection and the text/image content blocks
 * the student sees, with loss masks (method.md 6.3-6.4, path-leak bug fixed).
 */
package dev.drivekd.core.prompt;
