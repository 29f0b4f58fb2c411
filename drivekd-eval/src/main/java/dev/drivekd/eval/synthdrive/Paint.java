package dev.drivekd.eval.synthdrive;

import java.awt.Color;

/**
 * The colours of SynthDrive's road users; the name is the word questions and answers use. Four, so
 * that a colour question lists every colour as its options, always in this order.
 */
public enum Paint {
  /** Red. */
  RED("red", new Color(200, 30, 30)),
  /** Blue. */
  BLUE("blue", new Color(30, 70, 210)),
  /** White. */
  WHITE("white", new Color(235, 235, 235)),
  /** Yellow. */
  YELLOW("yellow", new Color(235, 205, 30));

  private final String word;
  private final Color rgb;

  Paint(String word, Color rgb) {
    this.word = word;
    this.rgb = rgb;
  }

  /** The word for it, e.g. {@code "blue"}. */
  public String word() {
    return word;
  }

  /** The colour it is drawn in by daylight. */
  public Color rgb() {
    return rgb;
  }
}
