package dev.drivekd.core.model.internvl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Presets, derived sizes, hand-counted parameters and the JSON form of the configuration. */
class InternVlConfigTest {

  @TempDir Path dir;

  @Test
  void presetsShareTheTokenSequenceOfTheFamily() {
    assertEquals(
        List.of("student-tiny", "teacher-small", "student-base", "teacher-base"),
        List.copyOf(InternVlConfig.presetMap().keySet()));
    InternVlConfig student = InternVlConfig.preset("student-tiny");
    InternVlConfig teacher = InternVlConfig.preset("teacher-small");
    // 112 px / patch 14 = 8 x 8 patches, pixel shuffle 0.5: 64 / 4 = 16 tokens
    assertEquals(16, student.tokensPerImage());
    assertEquals(student.tokensPerImage(), teacher.tokensPerImage());
    assertEquals(student.language().vocabSize(), teacher.language().vocabSize());
    assertEquals(student.tokenizer(), teacher.tokenizer());
    assertEquals(16, student.language().headDim());
    assertEquals(1e6, student.language().ropeTheta());
  }

  @Test
  void theBasePresetsHaveTheShapesUsersTrainScaledToACpu() {
    InternVlConfig student = InternVlConfig.preset("student-base");
    InternVlConfig teacher = InternVlConfig.preset("teacher-base");
    // 224 px / patch 14 = 16 x 16 patches, pixel shuffle 0.5: 256 / 4 = 64 tokens per image
    assertEquals(64, student.tokensPerImage());
    assertEquals(student.tokensPerImage(), teacher.tokensPerImage());
    assertEquals(student.tokenizer(), teacher.tokenizer());
    assertEquals(8192, student.language().vocabSize());
    assertEquals(student.language().vocabSize(), teacher.language().vocabSize());
    assertEquals(64, student.language().headDim());
    assertTrue(
        student.language().numKeyValueHeads() < student.language().numAttentionHeads(), "GQA");
    assertTrue(student.language().numHiddenLayers() >= 8);
    long s = student.parameterCount();
    long t = teacher.parameterCount();
    assertTrue(s >= 20_000_000 && s <= 40_000_000, "student-base: " + s);
    assertTrue(t >= 2 * s && t <= 4 * s, "teacher-base: " + t + " against " + s);
  }

  @Test
  void parameterCountsMatchTheHandCountAndTheBuiltModel() {
    // student-tiny, by hand:
    //  vision: class 32 + patch 32*3*14*14 + 32 + positions 65*32 = 20960;
    //          per block norms 128 + qkv 3168 + proj 1056 + fc1 4224 + fc2 4128 + ls 64 = 12768, x2
    //  mlp1:   LN 256 + 128*64+64 + 64*64+64 = 12672
    //  LLM:    per layer norms 128 + q 4160 + k,v 4160 + o 4096 + mlp 3*64*176 = 46336, x4;
    //          embed 512*64 + norm 64 + head 512*64
    assertEquals(
        20960 + 2 * 12768 + 12672 + 4 * 46336 + 32768 + 64 + 32768,
        InternVlConfig.preset("student-tiny").parameterCount());
    assertEquals(310_112L, InternVlConfig.preset("student-tiny").parameterCount());
    // teacher-small: vision 41920 + 3*50112, mlp1 49920, LLM 6*176576 + 2*65536 + 128
    assertEquals(1_432_832L, InternVlConfig.preset("teacher-small").parameterCount());
    for (InternVlConfig config : InternVlConfig.presetMap().values()) {
      try (InternVlModel model = InternVlModel.create(config, Device.cpu(), 1)) {
        long total = 0;
        for (Parameter p : model.namedParameters().values()) {
          total += p.getArray().size();
        }
        assertEquals(config.parameterCount(), total, config.name());
      }
    }
  }

  @Test
  void fanInInitialisationScalesTheWeightsByOneOverRootWidth() {
    InternVlConfig teacher = InternVlConfig.preset("teacher-small");
    assertEquals(1 / Math.sqrt(128), teacher.fanInStd(), 1e-15);
    assertEquals(0.125, InternVlConfig.preset("student-tiny").fanInStd(), 1e-15);
    InternVlConfig wide = teacher.withInitializerRange(teacher.fanInStd());
    assertEquals(teacher.fanInStd(), wide.initializerRange(), 0);
    assertEquals(0.02, teacher.initializerRange(), 0, "the presets keep InternVL's 0.02");
    assertEquals(wide, InternVlConfig.fromJson(wide.toJson()), "recorded in config.json");
    // the seeded normal initialisation draws every weight matrix with that deviation
    try (InternVlModel narrow = InternVlModel.create(teacher, Device.cpu(), 3);
        InternVlModel fanIn = InternVlModel.create(wide, Device.cpu(), 3)) {
      String name = "language_model.model.layers.0.self_attn.o_proj.weight";
      float narrowStd = std(narrow.namedParameters().get(name).getArray().toFloatArray());
      float fanInStd = std(fanIn.namedParameters().get(name).getArray().toFloatArray());
      assertEquals(0.02, narrowStd, 0.001, name);
      assertEquals(0.0884, fanInStd, 0.004, name);
    }
  }

  private static float std(float[] values) {
    double sum = 0;
    double squares = 0;
    for (float v : values) {
      sum += v;
      squares += (double) v * v;
    }
    double mean = sum / values.length;
    return (float) Math.sqrt(squares / values.length - mean * mean);
  }

  @Test
  void unknownPresetListsThePresets() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> InternVlConfig.preset("student-huge"));
    assertTrue(e.getMessage().contains("student-huge"), e.getMessage());
    assertTrue(e.getMessage().contains("student-tiny, teacher-small"), e.getMessage());
  }

  @Test
  void jsonRoundTripsThroughAFile() throws IOException {
    InternVlConfig config = InternVlConfig.preset("teacher-small").withTokenizer("sha256:abc");
    Path file = dir.resolve("sub/config.json");
    config.write(file);
    String text = Files.readString(file);
    assertTrue(text.contains("\"num_key_value_heads\" : 2"), text);
    assertTrue(text.contains("\"rope_theta\" : 1000000.0"), text);
    assertEquals(config, InternVlConfig.read(file));
    assertEquals(config, InternVlConfig.fromJson(config.toJson()));
  }

  @Test
  void invalidJsonNamesTheProblem() throws IOException {
    String good = InternVlConfig.preset("student-tiny").toJson();
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                InternVlConfig.fromJson(
                    good.replace("\"rope_theta\"", "\"rope_scaling\" : 2.0,\n    \"rope_theta\"")));
    assertTrue(unknown.getMessage().contains("rope_scaling"), unknown.getMessage());

    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> InternVlConfig.fromJson(good.replace(",\n    \"rms_norm_eps\" : 1.0E-6", "")));
    assertTrue(missing.getMessage().contains("rms_norm_eps"), missing.getMessage());

    IllegalArgumentException heads =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                InternVlConfig.fromJson(
                    good.replace("\"num_key_value_heads\" : 2", "\"num_key_value_heads\" : 3")));
    assertTrue(heads.getMessage().contains("num_key_value_heads 3"), heads.getMessage());

    IllegalArgumentException grid =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                InternVlConfig.fromJson(
                    good.replace("\"image_size\" : 112", "\"image_size\" : 98")));
    assertTrue(grid.getMessage().contains("must be even"), grid.getMessage());

    Path file = dir.resolve("bad.json");
    Files.writeString(
        file, good.replace("\"downsample_ratio\" : 0.5", "\"downsample_ratio\" : 0.25"));
    IOException io = assertThrows(IOException.class, () -> InternVlConfig.read(file));
    assertTrue(io.getMessage().startsWith(file.toString()), io.getMessage());
    assertTrue(io.getMessage().contains("downsample_ratio"), io.getMessage());
  }
}
