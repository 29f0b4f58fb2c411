package dev.drivekd.eval.synthdrive;

/** What a SynthDrive road user is; its name is the word questions and answers use. */
public enum ObjectKind {
  /** A passenger car. */
  CAR("car"),
  /** A box truck. */
  TRUCK("truck"),
  /** A bus with a row of windows. */
  BUS("bus"),
  /** A motorcycle with its rider. */
  MOTORCYCLE("motorcycle"),
  /** A person on foot. */
  PEDESTRIAN("pedestrian");

  private final String word;

  ObjectKind(String word) {
    this.word = word;
  }

  /** The word for it, e.g. {@code "truck"}. */
  public String word() {
    return word;
  }

  /** Whether it is a vehicle (everything but a pedestrian). */
  public boolean isVehicle() {
    return this != PEDESTRIAN;
  }

  /** Relative size class: bus and truck 3, car 2, motorcycle and pedestrian 1. */
  public int size() {
    return switch (this) {
      case BUS, TRUCK -> 3;
      case CAR -> 2;
      case MOTORCYCLE, PEDESTRIAN -> 1;
    };
  }
}
