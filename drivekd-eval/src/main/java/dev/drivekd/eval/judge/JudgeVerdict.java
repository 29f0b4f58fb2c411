package dev.drivekd.eval.judge;

import java.util.OptionalInt;

/**
 * A judge's verdict on one prompt.
 *
 * @param status scored, unparseable reply, or failed call
 * @param score the total score (present only when {@code status} is {@link Status#SCORED})
 * @param reply the judge's reply text, or empty when the call failed
 * @param error why the call failed or the reply was not read, or empty
 * @param cached whether the reply came from the cache (no request was made)
 * @param attempts how many requests were made (0 when cached)
 */
public record JudgeVerdict(
    Status status, OptionalInt score, String reply, String error, boolean cached, int attempts) {

  /** What became of a prompt. */
  public enum Status {
    /** The reply stated a score. */
    SCORED,
    /** A reply came but states no valid score: counted and reported, never taken as 0. */
    UNPARSEABLE,
    /** No reply after every attempt (endpoint down, timeouts, refused request). */
    FAILED
  }

  /** The verdict on a reply: scored when {@link TotalScore} reads one, else unparseable. */
  static JudgeVerdict ofReply(String reply, boolean cached, int attempts) {
    OptionalInt score = TotalScore.parse(reply);
    return score.isPresent()
        ? new JudgeVerdict(Status.SCORED, score, reply, "", cached, attempts)
        : new JudgeVerdict(
            Status.UNPARSEABLE,
            OptionalInt.empty(),
            reply,
            "no 'Total Score: N' line with N in 0..100",
            cached,
            attempts);
  }

  /** A call that produced no reply. */
  static JudgeVerdict failed(String error, int attempts) {
    return new JudgeVerdict(Status.FAILED, OptionalInt.empty(), "", error, false, attempts);
  }
}
