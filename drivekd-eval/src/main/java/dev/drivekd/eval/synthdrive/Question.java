package dev.drivekd.eval.synthdrive;

import dev.drivekd.core.data.Capability;
import java.util.List;
import java.util.Optional;

/**
 * One SynthDrive question about a scene, with its answer in the reference data's style: a
 * multiple-choice answer starts with {@code Final: {B. Blue.}} and goes on with supporting fields
 * that also follow from the scene; an open-ended answer is a sentence.
 *
 * @param capability which capability the question tests
 * @param type the question's kind, e.g. {@code colour}, {@code same_colour}, {@code action}
 * @param text the question as the user asks it (object tags included, no image placeholders)
 * @param options the options, in order (A, B, ...); empty for an open-ended question
 * @param answer the reference answer
 * @param correct the letter of the right option; empty for an open-ended question
 */
public record Question(
    Capability capability,
    String type,
    String text,
    List<String> options,
    String answer,
    Optional<Character> correct) {

  /** Defensive copy. */
  public Question {
    options = List.copyOf(options);
  }

  /** Whether the question has options. */
  public boolean isMultipleChoice() {
    return !options.isEmpty();
  }
}
