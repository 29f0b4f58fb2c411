package dev.drivekd.core.model.internvl;

import static dev.drivekd.core.model.internvl.Samples.Segment.image;
import static dev.drivekd.core.model.internvl.Samples.Segment.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.VlmBatch;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Greedy decoding with the key/value cache equals re-running the full forward every step. */
class InternVlGenerationTest {

  private static InternVlConfig config;
  private static InternVlModel model;

  @BeforeAll
  static void open() {
    config = InternVlConfig.preset("student-tiny");
    // a larger initialisation spreads the logits, so greedy decoding moves between tokens
    config =
        new InternVlConfig(
            config.name(),
            config.tokenizer(),
            0.2,
            config.vision(),
            config.projector(),
            config.language());
    model = InternVlModel.create(config, Device.cpu(), 2024);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static VlmBatch prompt(NDManager manager) {
    int v = config.language().vocabSize();
    return Samples.batch(
        manager,
        config,
        List.of(Samples.sample(text(Samples.ids(1, 3, v)), image(8), text(Samples.ids(2, 5, v)))));
  }

  /** Greedy decoding without a cache: the full forward over prompt + generated tokens each step. */
  private static long[] withoutCache(
      NDManager manager, VlmBatch prompt, int steps, float[][] logits) {
    long[] base = prompt.inputIds().toLongArray();
    int n = base.length;
    long[] generated = new long[steps];
    for (int s = 0; s < steps; s++) {
      try (NDManager step = manager.newSubManager()) {
        long[] ids = Arrays.copyOf(base, n + s);
        System.arraycopy(generated, 0, ids, n, s);
        boolean[][] image = {new boolean[n + s]};
        for (int i = 0; i < n; i++) {
          image[0][i] = prompt.layout().isImage(0, i);
        }
        TokenLayout layout = TokenLayout.of(image, new boolean[1][n + s], new int[] {n + s});
        VlmBatch batch =
            new VlmBatch(step.create(ids, new Shape(1, n + s)), prompt.pixelValues(), layout);
        NDArray last =
            model
                .forward(batch, ForwardRequest.logitsOnly(), false)
                .logits()
                .get("0, " + (n + s - 1));
        logits[s] = last.toFloatArray();
        generated[s] = last.argMax().getLong();
      }
    }
    return generated;
  }

  @Test
  void cachedDecodingEqualsFullRecomputation() {
    int steps = 12;
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch prompt = prompt(sub);
      int arrays = sub.getManagedArrays().size();
      long[] cached = model.generate(prompt, steps, OptionalLong.empty());
      assertEquals(arrays, sub.getManagedArrays().size(), "generation frees its arrays");
      float[][] logits = new float[steps][];
      long[] reference = withoutCache(sub, prompt, steps, logits);
      assertArrayEquals(reference, cached);
      assertTrue(
          Arrays.stream(cached).distinct().count() > 2,
          "a non-trivial continuation: " + Arrays.toString(cached));
      // the greedy choices are clear: the best logit leads the runner-up by far more than the
      // cache's rounding differences
      for (float[] row : logits) {
        float[] sorted = row.clone();
        Arrays.sort(sorted);
        assertTrue(sorted[sorted.length - 1] - sorted[sorted.length - 2] > 1e-4);
      }
    }
  }

  @Test
  void stopsAtTheStopTokenAndKeepsIt() {
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch prompt = prompt(sub);
      long[] free = model.generate(prompt, 6, OptionalLong.empty());
      long[] stopped = model.generate(prompt, 6, OptionalLong.of(free[2]));
      int first = 0;
      while (free[first] != free[2]) {
        first++;
      }
      assertArrayEquals(Arrays.copyOf(free, first + 1), stopped);
      assertEquals(0, model.generate(prompt, 0, OptionalLong.empty()).length);
    }
  }

  @Test
  void aVocabularyLimitKeepsEveryTokenBelowIt() {
    try (NDManager sub = model.manager().newSubManager()) {
      VlmBatch prompt = prompt(sub);
      int v = config.language().vocabSize();
      assertArrayEquals(
          model.generate(prompt, 8, OptionalLong.empty()),
          model.generate(prompt, 8, OptionalLong.empty(), v),
          "the whole head is the default");
      int limit = 40;
      long[] limited = model.generate(prompt, 8, OptionalLong.empty(), limit);
      assertEquals(8, limited.length);
      for (long token : limited) {
        assertTrue(token >= 0 && token < limit, Arrays.toString(limited));
      }
      // the first token is the best of the first `limit` logits of the prompt's last position
      float[] last =
          model
              .forward(prompt, ForwardRequest.logitsOnly(), false)
              .logits()
              .get("0, " + (prompt.length() - 1))
              .toFloatArray();
      int best = 0;
      for (int i = 1; i < limit; i++) {
        if (last[i] > last[best]) {
          best = i;
        }
      }
      assertEquals(best, limited[0]);
      assertThrows(
          IllegalArgumentException.class,
          () -> model.generate(prompt, 3, OptionalLong.empty(), v + 1));
      assertThrows(
          IllegalArgumentException.class, () -> model.generate(prompt, 3, OptionalLong.empty(), 0));
    }
  }

  @Test
  void rejectsBatchesAndPadding() {
    try (NDManager sub = model.manager().newSubManager()) {
      int v = config.language().vocabSize();
      VlmBatch two =
          Samples.batch(
              sub,
              config,
              List.of(
                  Samples.sample(text(Samples.ids(1, 3, v))),
                  Samples.sample(text(Samples.ids(2, 2, v)))));
      assertThrows(
          IllegalArgumentException.class, () -> model.generate(two, 3, OptionalLong.empty()));
      assertThrows(
          IllegalArgumentException.class,
          () -> model.generate(prompt(sub), -1, OptionalLong.empty()));
    }
  }
}
