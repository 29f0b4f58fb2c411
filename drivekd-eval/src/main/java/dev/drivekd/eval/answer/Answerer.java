package dev.drivekd.eval.answer;

import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.text.Tokenizer;

/** Produces a model's greedy answer to a sample's open-ended prompt. */
public interface Answerer {

  /** The model's name, for reports. */
  String modelName();

  /**
   * What decides the answers besides the data: the weights' fingerprint, the tokenizer, the
   * decoding and its length limit. Stored answers are reused only while it is unchanged.
   */
  String fingerprint();

  /** The tokenizer its prompts are encoded with. */
  Tokenizer tokenizer();

  /** The answer to {@code sample}'s open-ended prompt. */
  GeneratedAnswer answer(DrivingSample sample);
}
