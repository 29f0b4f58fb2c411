package dev.drivekd.eval.judge;

import java.util.List;

/**
 * Scores answers with a rubric. Implementations: {@link ChatCompletionsJudge} (an OpenAI-compatible
 * endpoint, cached on disk); tests and offline runs may supply their own.
 */
public interface Judge {

  /**
   * The verdicts on {@code prompts}, in their order. A prompt whose call fails gets a {@link
   * JudgeVerdict.Status#FAILED} verdict; the method itself throws only when it cannot run at all.
   */
  List<JudgeVerdict> judge(List<JudgePrompt> prompts);

  /** The judge's name for reports (its model, never its key). */
  String name();
}
