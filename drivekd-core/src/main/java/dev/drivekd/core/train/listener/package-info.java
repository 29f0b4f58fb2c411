/**
 * What a training run reports as it goes: the {@link
 * dev.drivekd.core.train.listener.DistillationListener} callbacks with their records, and listeners
 * that log (SLF4J), draw a progress bar and write a JSON-lines metrics file.
 */
package dev.drivekd.core.train.listener;
