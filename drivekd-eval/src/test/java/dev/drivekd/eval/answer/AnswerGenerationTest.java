package dev.drivekd.eval.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.testing.TinyDriving;
import dev.drivekd.eval.EvalItem;
import dev.drivekd.eval.GreedyAnswers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnswerGenerationTest {

  @TempDir Path dir;

  /** Counts calls; fails at call {@code failAt} (1-based) when positive. */
  private static final class Counting implements Answerer {
    final Answerer inner;
    final AtomicInteger calls = new AtomicInteger();
    final int failAt;

    Counting(Answerer inner, int failAt) {
      this.inner = inner;
      this.failAt = failAt;
    }

    @Override
    public String modelName() {
      return inner.modelName();
    }

    @Override
    public String fingerprint() {
      return inner.fingerprint();
    }

    @Override
    public dev.drivekd.core.text.Tokenizer tokenizer() {
      return inner.tokenizer();
    }

    @Override
    public GeneratedAnswer answer(DrivingSample sample) {
      if (calls.incrementAndGet() == failAt) {
        throw new IllegalStateException("killed");
      }
      return inner.answer(sample);
    }
  }

  @Test
  void cachedDecodingChoosesTheSameTokensAsRecomputingTheSequence() {
    TinyDriving tiny = new TinyDriving(dir);
    try (InternVlModel model = tiny.model("student-tiny", 11)) {
      BatchEncoder encoder = tiny.encoder(model.card());
      GreedyAnswers cached = GreedyAnswers.of(model, encoder, 6);
      RecomputingAnswerer recomputed = new RecomputingAnswerer(model, encoder, 6);
      assertEquals(cached.fingerprint(), recomputed.fingerprint());
      for (DrivingSample s : tiny.dataset.samples()) {
        GeneratedAnswer a = cached.answer(s);
        GeneratedAnswer b = recomputed.answer(s);
        assertEquals(a.text(), b.text(), "sample " + s.recordIndex());
        assertEquals(a.newTokens(), b.newTokens());
        assertEquals(a.stopped(), b.stopped());
        assertTrue(a.newTokens() <= 6);
      }
    }
  }

  @Test
  void storedAnswersAreReusedForTheSameModelAndDataAndAnInterruptedRunContinues()
      throws IOException {
    TinyDriving tiny = new TinyDriving(dir);
    List<EvalItem> items = EvalItem.of(tiny.dataset);
    Path file = dir.resolve("answers.jsonl");
    try (InternVlModel model = tiny.model("student-tiny", 11)) {
      BatchEncoder encoder = tiny.encoder(model.card());
      GreedyAnswers greedy = GreedyAnswers.of(model, encoder, 6);

      // killed at the third answer: two are on disk
      Counting dying = new Counting(greedy, 3);
      assertThrows(IllegalStateException.class, () -> AnswerGeneration.run(items, dying, file));
      assertEquals(1 + 2, Files.readAllLines(file).size());

      Counting resumed = new Counting(greedy, 0);
      AnswerGeneration.Result first = AnswerGeneration.run(items, resumed, file);
      assertEquals(2, first.reused());
      assertEquals(items.size() - 2, first.generated());
      assertEquals(items.size() - 2, resumed.calls.get());
      assertEquals(items.size(), first.answers().size());
      for (int i = 0; i < items.size(); i++) {
        assertEquals(items.get(i).id(), first.answers().get(i).id());
        assertEquals(greedy.apply(items.get(i).sample()), first.answers().get(i).answer());
      }

      Counting again = new Counting(greedy, 0);
      AnswerGeneration.Result second = AnswerGeneration.run(items, again, file);
      assertEquals(0, again.calls.get(), "nothing is generated twice");
      assertEquals(items.size(), second.reused());
      assertEquals(first.answers(), second.answers());

      // a torn last line (killed mid-write) is answered again, nothing else
      String torn = "{\"id\":\"" + items.get(0).id() + "\",\"capab";
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      Files.write(file, lines.subList(0, lines.size() - 1), StandardCharsets.UTF_8);
      Files.writeString(file, torn, StandardOpenOption.APPEND);
      Counting afterTear = new Counting(greedy, 0);
      AnswerGeneration.run(items, afterTear, file);
      assertEquals(1, afterTear.calls.get());

      // another length limit is another fingerprint: everything is answered again
      Counting longer = new Counting(GreedyAnswers.of(model, encoder, 7), 0);
      assertEquals(items.size(), AnswerGeneration.run(items, longer, file).generated());
      // other data (one item fewer) is another data fingerprint
      Counting fewer = new Counting(greedy, 0);
      assertEquals(
          items.size() - 1,
          AnswerGeneration.run(items.subList(1, items.size()), fewer, file).generated());
    }
  }

  @Test
  void anEmptySetIsRefusedWithOneClearLine() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> AnswerGeneration.run(List.of(), null, dir.resolve("a.jsonl")));
    assertEquals("nothing to answer: the evaluation set is empty", e.getMessage());
  }
}
