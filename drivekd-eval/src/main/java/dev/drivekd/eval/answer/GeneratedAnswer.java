package dev.drivekd.eval.answer;

/**
 * A model's answer to one prompt.
 *
 * @param text the decoded answer, trimmed
 * @param newTokens tokens produced (the end-of-turn token included when produced)
 * @param stopped whether the end of the turn was produced (false: cut at the length limit)
 * @param seconds wall time of encoding the prompt and decoding
 */
public record GeneratedAnswer(String text, int newTokens, boolean stopped, double seconds) {}
