package dev.drivekd.core.model.internvl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The building blocks against hand-computed values: pixel shuffle, RMSNorm, rotary, masks. */
class InternVlComponentsTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @Test
  void stepConstantsEqualWhatAForwardComputesAndStayBounded() {
    try (NDManager owner = manager.newSubManager();
        NDManager fresh = manager.newSubManager()) {
      RotaryEmbedding rotary = new RotaryEmbedding(16, 1e6);
      StepConstants constants = new StepConstants(owner, rotary);
      RotaryEmbedding.Tables cached = constants.rope(12);
      RotaryEmbedding.Tables computed = rotary.tables(fresh, 0, 12);
      assertArrayEquals(computed.cos().toFloatArray(), cached.cos().toFloatArray());
      assertArrayEquals(computed.sin().toFloatArray(), cached.sin().toFloatArray());
      assertArrayEquals(
          AttentionMasks.causal(fresh, 12).toFloatArray(), constants.causal(12).toFloatArray());
      assertTrue(cached == constants.rope(12), "one build per length");
      for (int length = 1; length <= 5 * StepConstants.MAX_LENGTHS; length++) {
        constants.rope(length);
      }
      // two generations of at most MAX_LENGTHS lengths, each 2 tables and 1 mask
      assertTrue(
          owner.getManagedArrays().size() <= 6 * StepConstants.MAX_LENGTHS,
          "bounded: " + owner.getManagedArrays().size());
    }
  }

  @Test
  void arraysAForwardFetchedStayValidWhenItsNextFetchStartsTheCacheOver() {
    try (NDManager owner = manager.newSubManager()) {
      StepConstants constants = new StepConstants(owner, new RotaryEmbedding(16, 1e6));
      int last = StepConstants.MAX_LENGTHS;
      for (int length = 1; length < last; length++) {
        constants.rope(length);
        constants.causal(length);
      }
      // a forward pass of a new length: its tables fill the cache, its mask starts it over
      RotaryEmbedding.Tables tables = constants.rope(last);
      NDArray mask = constants.causal(last);
      assertEquals(last * 16, tables.cos().toFloatArray().length, "the tables are not freed");
      assertEquals(last * last, mask.toFloatArray().length);
      // the generation after frees them
      for (int length = last + 1; length <= 3 * last; length++) {
        constants.rope(length);
        constants.causal(length);
      }
      assertTrue(tables.cos().isReleased());
    }
  }

  @Test
  void pixelShuffleIsInternVlsIndexPermutation() {
    int n = 2;
    int g = 4;
    int c = 3;
    float[] data = new float[n * g * g * c];
    for (int i = 0; i < data.length; i++) {
      data[i] = i;
    }
    try (NDManager sub = manager.newSubManager()) {
      NDArray x = sub.create(data, new Shape(n, g, g, c));
      NDArray z = PixelShuffle.shuffle(x);
      assertEquals(new Shape(n, g / 2, g / 2, 4 * c), z.getShape());
      float[] out = z.toFloatArray();
      // out[img, i, j] = cat(in[img, 2i, 2j], in[img, 2i, 2j+1], in[img, 2i+1, 2j], in[img, 2i+1,
      // 2j+1])
      int[][] offsets = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
      for (int img = 0; img < n; img++) {
        for (int i = 0; i < g / 2; i++) {
          for (int j = 0; j < g / 2; j++) {
            for (int q = 0; q < 4; q++) {
              for (int ch = 0; ch < c; ch++) {
                int row = 2 * i + offsets[q][0];
                int col = 2 * j + offsets[q][1];
                float expected = ((img * g + row) * g + col) * c + ch;
                int at = (((img * (g / 2) + i) * (g / 2) + j) * 4 + q) * c + ch;
                assertEquals(expected, out[at], "img " + img + " token " + i + "," + j);
              }
            }
          }
        }
      }
      // one token spelled out: image 0, output token (0, 1) reads input tokens (0,2) (0,3) (1,2)
      // (1,3)
      float[] token = z.get("0, 0, 1, :").toFloatArray();
      assertArrayEquals(
          new float[] {6, 7, 8, 9, 10, 11, 18, 19, 20, 21, 22, 23}, token, "token (0, 1)");
    }
  }

  @Test
  void rmsNormMatchesHandValues() {
    try (NDManager sub = manager.newSubManager()) {
      RmsNorm norm = new RmsNorm(4, 1e-6);
      norm.setInitializer(Initializer.ONES, Parameter.Type.WEIGHT);
      norm.initialize(sub, DataType.FLOAT32, new Shape(1, 4));
      float[] w = {0.5f, 1f, 2f, -1f};
      norm.getParameters().get("weight").getArray().set(w);
      NDArray x = sub.create(new float[] {1, -2, 3, 0.5f, 10, 0, 0, 0}, new Shape(2, 4));
      float[] y = norm.apply(new ParameterStore(sub, false), x, false).toFloatArray();
      // row 0: mean(x^2) = (1 + 4 + 9 + 0.25) / 4 = 3.5625
      double r0 = 1 / Math.sqrt(3.5625 + 1e-6);
      double[] expected0 = {0.5 * r0, -2 * r0, 2 * 3 * r0, -0.5 * r0};
      for (int i = 0; i < 4; i++) {
        assertEquals(expected0[i], y[i], 1e-6, "row 0, " + i);
      }
      // row 1: mean(x^2) = 25 -> 0.5 * 10 / 5 = 1
      assertEquals(1.0, y[4], 1e-6);
      assertEquals(0f, y[5]);
      assertEquals(0f, y[6]);
      assertEquals(-0f, y[7]);
    }
  }

  @Test
  void rotaryMatchesHandValuesInRotateHalfConvention() {
    RotaryEmbedding rotary = new RotaryEmbedding(4, 1e6);
    // f_i = theta^(-2i/d): 1 and 1e6^-0.5 = 1e-3
    assertArrayEquals(new float[] {1f, 1e-3f}, rotary.inverseFrequencies());
    try (NDManager sub = manager.newSubManager()) {
      RotaryEmbedding.Tables tables = rotary.tables(sub, 2, 1);
      NDArray x = sub.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 1, 4));
      float[] y = RotaryEmbedding.apply(x, tables).toFloatArray();
      // pairs (x0, x2) turn by 2 * 1 rad, (x1, x3) by 2 * 1e-3 rad
      double a = 2;
      double b = 2e-3;
      assertEquals(1 * Math.cos(a) - 3 * Math.sin(a), y[0], 1e-6);
      assertEquals(2 * Math.cos(b) - 4 * Math.sin(b), y[1], 1e-6);
      assertEquals(3 * Math.cos(a) + 1 * Math.sin(a), y[2], 1e-6);
      assertEquals(4 * Math.cos(b) + 2 * Math.sin(b), y[3], 1e-6);
      // position 0 is the identity
      assertArrayEquals(
          new float[] {1, 2, 3, 4},
          RotaryEmbedding.apply(x, rotary.tables(sub, 0, 1)).toFloatArray(),
          1e-7f);
    }
  }

  @Test
  void rotaryScoresDependOnlyOnRelativePosition() {
    RotaryEmbedding rotary = new RotaryEmbedding(16, 1e6);
    Random random = new Random(5);
    float[] q = new float[16];
    float[] k = new float[16];
    for (int i = 0; i < 16; i++) {
      q[i] = (float) random.nextGaussian();
      k[i] = (float) random.nextGaussian();
    }
    try (NDManager sub = manager.newSubManager()) {
      RotaryEmbedding.Tables tables = rotary.tables(sub, 0, 40);
      NDArray qs = sub.create(q, new Shape(1, 1, 1, 16)).broadcast(1, 1, 40, 16);
      NDArray ks = sub.create(k, new Shape(1, 1, 1, 16)).broadcast(1, 1, 40, 16);
      NDArray qr = RotaryEmbedding.apply(qs, tables);
      NDArray kr = RotaryEmbedding.apply(ks, tables);
      float[] scores = qr.matMul(kr.transpose(0, 1, 3, 2)).toFloatArray();
      // score(m, n) = score(m + s, n + s); norms are preserved
      assertEquals(scores[5 * 40 + 2], scores[35 * 40 + 32], 1e-4);
      assertEquals(scores[7 * 40 + 7], scores[0], 1e-4);
      float[] rotated = qr.get("0, 0, 33, :").toFloatArray();
      double before = 0;
      double after = 0;
      for (int i = 0; i < 16; i++) {
        before += q[i] * q[i];
        after += rotated[i] * rotated[i];
      }
      assertEquals(before, after, 1e-4);
      assertTrue(Math.abs(scores[5 * 40 + 2] - scores[5 * 40 + 3]) > 1e-3, "scores do move");
    }
  }

  @Test
  void groupedQueryAttentionMatchesAPerHeadReference() {
    InternVlConfig.LanguageConfig lang = InternVlConfig.preset("student-tiny").language();
    int d = lang.headDim();
    int heads = lang.numAttentionHeads();
    int groups = heads / lang.numKeyValueHeads();
    int len = 5;
    try (NDManager sub = manager.newSubManager()) {
      DecoderAttention attention = new DecoderAttention(lang, 0.3);
      java.util.Map<String, Parameter> named = new java.util.LinkedHashMap<>();
      java.util.Map<String, ParameterInit> inits = new java.util.LinkedHashMap<>();
      attention.collect("", named, inits);
      named.forEach((name, p) -> p.setInitializer(inits.get(name).seeded(9, name)));
      // biases start at zero: give them values too, so a wrong bias slice would show
      named.forEach(
          (name, p) -> {
            if (name.endsWith("bias")) {
              p.setInitializer(ParameterInit.normal(0.3).seeded(10, name));
            }
          });
      attention.initialize(sub, DataType.FLOAT32, new Shape(1, len, lang.hiddenSize()));
      Random random = new Random(4);
      float[] input = new float[len * lang.hiddenSize()];
      for (int i = 0; i < input.length; i++) {
        input[i] = (float) random.nextGaussian();
      }
      NDArray x = sub.create(input, new Shape(1, len, lang.hiddenSize()));
      RotaryEmbedding rotary = new RotaryEmbedding(d, lang.ropeTheta());
      RotaryEmbedding.Tables rope = rotary.tables(sub, 0, len);
      NDArray mask = AttentionMasks.causal(sub, len);
      NDArray[] out =
          attention.apply(new ParameterStore(sub, false), x, rope, mask, true, null, 0, false);

      // reference: head h uses rows h*d.. of q_proj and key/value head h / groups (repeat_kv)
      NDArray wq = named.get("q_proj.weight").getArray();
      NDArray bq = named.get("q_proj.bias").getArray();
      NDArray wk = named.get("k_proj.weight").getArray();
      NDArray bk = named.get("k_proj.bias").getArray();
      NDArray wv = named.get("v_proj.weight").getArray();
      NDArray bv = named.get("v_proj.bias").getArray();
      NDArray wo = named.get("o_proj.weight").getArray();
      ai.djl.ndarray.NDList contexts = new ai.djl.ndarray.NDList();
      for (int h = 0; h < heads; h++) {
        int kv = h / groups;
        String rows = h * d + ":" + (h + 1) * d;
        String kvRows = kv * d + ":" + (kv + 1) * d;
        NDArray qh = x.matMul(wq.get(rows).transpose()).add(bq.get(rows)).reshape(1, 1, len, d);
        NDArray kh = x.matMul(wk.get(kvRows).transpose()).add(bk.get(kvRows)).reshape(1, 1, len, d);
        NDArray vh = x.matMul(wv.get(kvRows).transpose()).add(bv.get(kvRows)).reshape(1, 1, len, d);
        qh = RotaryEmbedding.apply(qh, rope);
        kh = RotaryEmbedding.apply(kh, rope);
        NDArray p =
            qh.matMul(kh.transpose(0, 1, 3, 2)).div((float) Math.sqrt(d)).add(mask).softmax(-1);
        assertArrayEquals(
            p.toFloatArray(),
            out[1].get(":, " + h + ":" + (h + 1)).toFloatArray(),
            1e-6f,
            "head " + h);
        contexts.add(p.matMul(vh).reshape(len, d));
      }
      NDArray expected = ai.djl.ndarray.NDArrays.concat(contexts, 1).matMul(wo.transpose());
      assertArrayEquals(expected.toFloatArray(), out[0].toFloatArray(), 1e-5f);
    }
  }

  @Test
  void fusedVisionAttentionSplitsQkvAsInternVit() {
    InternVlConfig.VisionConfig vision = InternVlConfig.preset("teacher-small").vision();
    int c = vision.hiddenSize();
    int heads = vision.numAttentionHeads();
    int d = c / heads;
    int tokens = 6;
    try (NDManager sub = manager.newSubManager()) {
      VisionAttention attention = new VisionAttention(vision, 0.3);
      java.util.Map<String, Parameter> named = new java.util.LinkedHashMap<>();
      java.util.Map<String, ParameterInit> inits = new java.util.LinkedHashMap<>();
      attention.collect("", named, inits);
      named.forEach((name, p) -> p.setInitializer(ParameterInit.normal(0.3).seeded(12, name)));
      attention.initialize(sub, DataType.FLOAT32, new Shape(2, tokens, c));
      Random random = new Random(6);
      float[] input = new float[2 * tokens * c];
      for (int i = 0; i < input.length; i++) {
        input[i] = (float) random.nextGaussian();
      }
      NDArray x = sub.create(input, new Shape(2, tokens, c));
      NDArray out = attention.apply(new ParameterStore(sub, false), x, false);
      // qkv rows: [q heads 0..H-1 | k heads | v heads], each head d rows (reshape [.., 3, H, d])
      NDArray w = named.get("qkv.weight").getArray();
      NDArray b = named.get("qkv.bias").getArray();
      ai.djl.ndarray.NDList contexts = new ai.djl.ndarray.NDList();
      for (int h = 0; h < heads; h++) {
        NDArray[] qkv = new NDArray[3];
        for (int part = 0; part < 3; part++) {
          String rows = (part * c + h * d) + ":" + (part * c + (h + 1) * d);
          qkv[part] = x.matMul(w.get(rows).transpose()).add(b.get(rows));
        }
        NDArray p =
            qkv[0].mul((float) Math.pow(d, -0.5)).matMul(qkv[1].transpose(0, 2, 1)).softmax(-1);
        contexts.add(p.matMul(qkv[2]));
      }
      NDArray expected =
          ai.djl.ndarray.NDArrays.concat(contexts, 2)
              .matMul(named.get("proj.weight").getArray().transpose())
              .add(named.get("proj.bias").getArray());
      assertArrayEquals(expected.toFloatArray(), out.toFloatArray(), 1e-5f);
    }
  }

  @Test
  void masksAreCausalAndHidePaddedKeys() {
    float m = AttentionMasks.MASKED;
    try (NDManager sub = manager.newSubManager()) {
      NDArray padded = AttentionMasks.causalPadded(sub, new int[] {3, 2}, 3);
      assertEquals(new Shape(2, 1, 3, 3), padded.getShape());
      assertArrayEquals(
          new float[] {
            0,
            m,
            m,
            0,
            0,
            m,
            0,
            0,
            0, // sample 0: plain causal
            0,
            m,
            m,
            0,
            0,
            m,
            0,
            0,
            m // sample 1: key 2 is padding
          },
          padded.toFloatArray());
      NDArray unpadded = AttentionMasks.causalPadded(sub, new int[] {2, 2}, 2);
      assertEquals(new Shape(1, 1, 2, 2), unpadded.getShape());
      assertArrayEquals(new float[] {0, m, 0, 0}, unpadded.toFloatArray());
      // two new queries at positions 2 and 3 over keys 0..3
      NDArray step = AttentionMasks.causalFrom(sub, 2, 2);
      assertEquals(new Shape(1, 1, 2, 4), step.getShape());
      assertArrayEquals(new float[] {0, 0, 0, m, 0, 0, 0, 0}, step.toFloatArray());
    }
  }
}
