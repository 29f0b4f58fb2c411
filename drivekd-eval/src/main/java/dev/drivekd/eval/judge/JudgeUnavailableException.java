package dev.drivekd.eval.judge;

/**
 * The judge answered none of the prompts of an evaluation (endpoint down, key refused, every call
 * timed out): the message names the judge and the first error, in one line.
 */
public final class JudgeUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** An exception with a one-line message. */
  public JudgeUnavailableException(String message) {
    super(message);
  }
}
