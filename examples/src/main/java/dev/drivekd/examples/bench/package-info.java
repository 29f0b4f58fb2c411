/**
 * Benchmarks behind {@code drivekd bench ...}: each prints its figures, ratios measured side by
 * side in one run, and with {@code --json} one JSON object.
 */
package dev.drivekd.examples.bench;
