/**
 * Capability teachers: frozen wrappers around vision-language models, the teacher panel with its
 * mixing matrix, TorchScript import and the teacher-target cache.
 */
package dev.drivekd.teachers;
