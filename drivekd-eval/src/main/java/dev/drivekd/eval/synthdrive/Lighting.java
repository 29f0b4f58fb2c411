package dev.drivekd.eval.synthdrive;

import java.awt.Color;

/** Time of day: sky and road colours, and how bright the road users appear. */
public enum Lighting {
  /** Blue sky, full colours. */
  DAY("day", new Color(135, 190, 235), new Color(95, 95, 100), 1.0),
  /** Orange sky, slightly dimmed. */
  DUSK("dusk", new Color(225, 145, 90), new Color(80, 75, 80), 0.8),
  /** Dark sky and road, dimmed colours. */
  NIGHT("night", new Color(20, 25, 45), new Color(45, 45, 50), 0.6);

  private final String word;
  private final Color sky;
  private final Color road;
  private final double brightness;

  Lighting(String word, Color sky, Color road, double brightness) {
    this.word = word;
    this.sky = sky;
    this.road = road;
    this.brightness = brightness;
  }

  /** The word for it. */
  public String word() {
    return word;
  }

  Color sky() {
    return sky;
  }

  Color road() {
    return road;
  }

  /** {@code colour} as it looks in this light. */
  Color shade(Color colour) {
    return new Color(
        (int) Math.round(colour.getRed() * brightness),
        (int) Math.round(colour.getGreen() * brightness),
        (int) Math.round(colour.getBlue() * brightness));
  }
}
