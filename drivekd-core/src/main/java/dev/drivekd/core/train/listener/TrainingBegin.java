package dev.drivekd.core.train.listener;

import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.checkpoint.StepCounters;

/**
 * The start of a run, or of its resumption.
 *
 * @param provenance what made the run
 * @param epochs epochs the run trains in total
 * @param samplesPerEpoch samples per epoch
 * @param totalOptimizerSteps optimizer steps of the whole run ({@code epochs·ceil(N/A)}), 0 if
 *     unknown
 * @param start where training starts: zeros for a new run, the checkpoint's counters on resume
 */
public record TrainingBegin(
    RunProvenance provenance,
    int epochs,
    long samplesPerEpoch,
    long totalOptimizerSteps,
    StepCounters start) {}
