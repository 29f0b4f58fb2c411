package dev.drivekd.core.train;

/**
 * Where the training thread's time goes in a Drive-KD run, phase by phase ({@link
 * TrainingSummary#phaseSeconds()}). On a CPU every phase is exact; on a GPU operations run
 * asynchronously, and a phase's time lands in the next phase that reads a result back to the host
 * (the losses and the combination do).
 */
public enum StepPhase {
  /** Waiting for the next micro-step's inputs: encoding, and the teachers when they run live. */
  INPUT_WAIT("input_wait"),
  /** The student's forward pass, with the attention maps the recipe reads. */
  FORWARD("forward"),
  /** Every task's loss from the forward's outputs and the teachers' targets (forward only). */
  LOSSES("losses"),
  /** The backward passes: one per task with a projection, zeroing the gradients between them. */
  BACKWARDS("backwards"),
  /** Copying each task's gradient out of the parameters after its backward. */
  SNAPSHOTS("snapshots"),
  /** Weighting, norms, the projection's combination and adding it into the window. */
  COMBINE("combine"),
  /** The AdamW update at the end of each accumulation window. */
  OPTIMIZER("optimizer"),
  /** Writing checkpoints. */
  CHECKPOINTS("checkpoints");

  private final String key;

  StepPhase(String key) {
    this.key = key;
  }

  /** The phase's key in {@link TrainingSummary#phaseSeconds()} and in reports. */
  public String key() {
    return key;
  }
}
