/**
 * Evaluation of distilled students: generation, capability scores, deployment metrics and reports.
 */
package dev.drivekd.eval;
