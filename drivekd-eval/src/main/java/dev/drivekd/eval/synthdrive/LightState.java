package dev.drivekd.eval.synthdrive;

/** The lit lamp of the scene's traffic light. */
public enum LightState {
  /** Stop. */
  RED("red"),
  /** Prepare to stop. */
  YELLOW("yellow"),
  /** Go. */
  GREEN("green");

  private final String word;

  LightState(String word) {
    this.word = word;
  }

  /** The word for it. */
  public String word() {
    return word;
  }
}
