package dev.drivekd.gradproj;

import java.util.List;

/**
 * A task gradient holds NaN or infinity. Thrown before anything is written, so a training loop can
 * skip the update and the weights stay untouched.
 */
public final class NonFiniteGradientException extends ArithmeticException {
  private static final long serialVersionUID = 1L;

  private final List<String> tasks;

  /** Names the tasks whose gradients are not finite. */
  public NonFiniteGradientException(List<String> tasks) {
    super("Non-finite gradient (NaN or infinity) in task(s) " + tasks);
    this.tasks = List.copyOf(tasks);
  }

  /** The offending tasks. */
  public List<String> tasks() {
    return tasks;
  }
}
