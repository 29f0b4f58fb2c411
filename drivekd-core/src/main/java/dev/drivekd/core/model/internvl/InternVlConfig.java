package dev.drivekd.core.model.internvl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sizes of a native InternVL3-style model: an InternViT vision encoder, the {@code mlp1}
 * projector after a 0.5 pixel shuffle, and a Qwen2 decoder (method.md 1.1 and 6.6). Stored as JSON
 * with snake_case keys (close to Hugging Face's {@code config.json}). Teachers and students of one
 * family must share {@link #tokensPerImage()}, the image size and the vocabulary, so that they see
 * the same token sequence.
 *
 * @param name the model's name (also the preset name for presets)
 * @param tokenizer identity of the tokenizer the vocabulary belongs to (see {@code
 *     Tokenizer.identity()})
 * @param initializerRange standard deviation of the seeded normal initialisation of weights
 * @param vision the InternViT encoder
 * @param projector the pixel shuffle and {@code mlp1}
 * @param language the Qwen2 decoder
 */
public record InternVlConfig(
    String name,
    String tokenizer,
    double initializerRange,
    VisionConfig vision,
    ProjectorConfig projector,
    LanguageConfig language) {

  /** The preset names and their configurations, in a fixed order. */
  private static final Map<String, InternVlConfig> PRESETS = presets();

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Checks the sizes against each other. */
  public InternVlConfig {
    require(name != null && !name.isBlank(), "name must not be blank");
    require(tokenizer != null && !tokenizer.isBlank(), "tokenizer must not be blank");
    require(initializerRange > 0, "initializer_range must be > 0, got " + initializerRange);
    require(vision != null && projector != null && language != null, "all sections are required");
  }

  /**
   * The InternViT vision encoder (InternViT-300M layout: pre-LayerNorm blocks with fused qkv, GELU
   * MLP and layer scale; no final norm).
   *
   * @param imageSize square input side in pixels
   * @param patchSize patch side; {@code imageSize / patchSize} must be even for the pixel shuffle
   * @param hiddenSize width {@code C}
   * @param numHiddenLayers encoder blocks
   * @param numAttentionHeads heads per block
   * @param intermediateSize MLP width
   * @param layerNormEps LayerNorm epsilon (1e-6 in InternViT)
   * @param layerScaleInit initial value of the layer-scale vectors {@code ls1}, {@code ls2} (0.1 in
   *     InternViT-300M); {@code 0} means the blocks have no layer scale
   */
  public record VisionConfig(
      int imageSize,
      int patchSize,
      int hiddenSize,
      int numHiddenLayers,
      int numAttentionHeads,
      int intermediateSize,
      double layerNormEps,
      double layerScaleInit) {

    /** Checks the sizes. */
    public VisionConfig {
      require(
          imageSize > 0 && patchSize > 0 && imageSize % patchSize == 0,
          "vision image_size "
              + imageSize
              + " must be a positive multiple of patch_size "
              + patchSize);
      require(
          (imageSize / patchSize) % 2 == 0,
          "vision patch grid " + imageSize / patchSize + " must be even for the 0.5 pixel shuffle");
      require(
          hiddenSize > 0 && numHiddenLayers > 0 && numAttentionHeads > 0 && intermediateSize > 0,
          "vision sizes must be positive");
      require(
          hiddenSize % numAttentionHeads == 0,
          "vision hidden_size "
              + hiddenSize
              + " must be divisible by num_attention_heads "
              + numAttentionHeads);
      require(layerNormEps > 0, "vision layer_norm_eps must be > 0");
      require(layerScaleInit >= 0, "vision layer_scale_init must be >= 0");
    }

    /** Patches per side. */
    public int gridSize() {
      return imageSize / patchSize;
    }

    /** Patches per image (without the CLS token). */
    public int numPatches() {
      return gridSize() * gridSize();
    }

    /** Whether the blocks carry layer-scale vectors. */
    public boolean hasLayerScale() {
      return layerScaleInit > 0;
    }
  }

  /**
   * The projector: pixel shuffle with {@code downsampleRatio} (only InternVL's 0.5 is supported),
   * then {@code mlp1} = LayerNorm(4C) → Linear(4C, D) → GELU → Linear(D, D).
   *
   * @param downsampleRatio the pixel-shuffle scale, 0.5
   * @param layerNormEps epsilon of {@code mlp1.0} (PyTorch's default 1e-5)
   */
  public record ProjectorConfig(double downsampleRatio, double layerNormEps) {

    /** Checks the ratio. */
    public ProjectorConfig {
      require(
          downsampleRatio == 0.5,
          "projector downsample_ratio must be 0.5 (InternVL3), got " + downsampleRatio);
      require(layerNormEps > 0, "projector layer_norm_eps must be > 0");
    }
  }

  /**
   * The Qwen2 decoder: RMSNorm, rotary positions, grouped-query attention with q/k/v biases, SwiGLU
   * MLP, untied LM head.
   *
   * @param vocabSize rows of the embedding and the LM head
   * @param hiddenSize width {@code D}
   * @param numHiddenLayers decoder layers {@code N}
   * @param numAttentionHeads query heads {@code H}
   * @param numKeyValueHeads key/value heads (divides {@code H})
   * @param intermediateSize SwiGLU width
   * @param ropeTheta rotary base (1e6 in InternVL3)
   * @param rmsNormEps RMSNorm epsilon (1e-6)
   */
  public record LanguageConfig(
      int vocabSize,
      int hiddenSize,
      int numHiddenLayers,
      int numAttentionHeads,
      int numKeyValueHeads,
      int intermediateSize,
      double ropeTheta,
      double rmsNormEps) {

    /** Checks the sizes. */
    public LanguageConfig {
      require(
          vocabSize > 0
              && hiddenSize > 0
              && numHiddenLayers > 0
              && numAttentionHeads > 0
              && numKeyValueHeads > 0
              && intermediateSize > 0,
          "language sizes must be positive");
      require(
          hiddenSize % numAttentionHeads == 0,
          "language hidden_size "
              + hiddenSize
              + " must be divisible by num_attention_heads "
              + numAttentionHeads);
      require(
          numAttentionHeads % numKeyValueHeads == 0,
          "num_attention_heads "
              + numAttentionHeads
              + " must be a multiple of num_key_value_heads "
              + numKeyValueHeads);
      require(
          (hiddenSize / numAttentionHeads) % 2 == 0,
          "head_dim " + hiddenSize / numAttentionHeads + " must be even for rotary positions");
      require(ropeTheta > 1, "rope_theta must be > 1");
      require(rmsNormEps > 0, "rms_norm_eps must be > 0");
    }

    /** Width of one head. */
    public int headDim() {
      return hiddenSize / numAttentionHeads;
    }
  }

  /** Vision tokens one image occupies in the sequence: {@code (image/patch)^2 / 4}. */
  public int tokensPerImage() {
    return vision.numPatches() / 4;
  }

  /** The number of scalar parameters of a model built from this configuration. */
  public long parameterCount() {
    VisionConfig vis = vision;
    long c = vis.hiddenSize();
    long p = vis.patchSize();
    long i = vis.intermediateSize();
    long embeddings =
        c // class_embedding
            + c * 3 * p * p
            + c // patch_embedding weight, bias
            + (vis.numPatches() + 1L) * c; // position_embedding
    long block =
        4 * c // norm1, norm2
            + 3 * c * c
            + 3 * c // qkv
            + c * c
            + c // proj
            + i * c
            + i // fc1
            + c * i
            + c // fc2
            + (vis.hasLayerScale() ? 2 * c : 0); // ls1, ls2
    long visionTotal = embeddings + block * vis.numHiddenLayers();
    LanguageConfig lang = language;
    long d = lang.hiddenSize();
    long projectorTotal = 2 * 4 * c + (4 * c * d + d) + (d * d + d);
    long kv = (long) lang.numKeyValueHeads() * lang.headDim();
    long layer =
        2 * d // input / post-attention norms
            + d * d
            + d // q
            + 2 * (kv * d + kv) // k, v
            + d * d // o (no bias)
            + 3 * d * lang.intermediateSize(); // gate, up, down
    long v = lang.vocabSize();
    long languageTotal = v * d + layer * lang.numHiddenLayers() + d + v * d;
    return visionTotal + projectorTotal + languageTotal;
  }

  /** A copy with another tokenizer identity (for example the hash of a real vocabulary). */
  public InternVlConfig withTokenizer(String identity) {
    return new InternVlConfig(name, identity, initializerRange, vision, projector, language);
  }

  /** A copy whose weights are initialised with standard deviation {@code std}. */
  public InternVlConfig withInitializerRange(double std) {
    return new InternVlConfig(name, tokenizer, std, vision, projector, language);
  }

  /**
   * The fan-in initialisation's standard deviation, {@code 1 / sqrt(language hidden size)}: what
   * narrow models trained from scratch need. The presets keep InternVL's 0.02, made for widths of
   * 896 and more; at width 128 it makes every weight of a two-hop attention route (a question's tag
   * reading its image cell, the answer reading the tag) four times too small, and a SynthDrive
   * teacher stayed at chance for 24,000 samples with it (docs/synthdrive.md).
   */
  public double fanInStd() {
    return 1.0 / Math.sqrt(language.hiddenSize());
  }

  /** The same configuration under another name. */
  public InternVlConfig withName(String newName) {
    return new InternVlConfig(newName, tokenizer, initializerRange, vision, projector, language);
  }

  /** The preset names, in a fixed order. */
  public static Map<String, InternVlConfig> presetMap() {
    return Collections.unmodifiableMap(PRESETS);
  }

  /**
   * A preset by name.
   *
   * @throws IllegalArgumentException for an unknown name, listing the presets
   */
  public static InternVlConfig preset(String name) {
    InternVlConfig config = PRESETS.get(name);
    if (config == null) {
      throw new IllegalArgumentException(
          "unknown InternVL preset \""
              + name
              + "\"; presets: "
              + String.join(", ", PRESETS.keySet()));
    }
    return config;
  }

  /** The configuration as JSON text. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + name, e);
    }
  }

  /**
   * Parses a configuration.
   *
   * @throws IllegalArgumentException naming the field that is missing, unknown or invalid
   */
  public static InternVlConfig fromJson(String json) {
    try {
      return JSON.readValue(json, InternVlConfig.class);
    } catch (JsonProcessingException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IllegalArgumentException) {
        throw new IllegalArgumentException("invalid InternVL config: " + cause.getMessage(), e);
      }
      throw new IllegalArgumentException("invalid InternVL config: " + e.getOriginalMessage(), e);
    }
  }

  /** Writes the configuration as JSON to {@code file}. */
  public void write(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Files.writeString(file, toJson() + "\n", StandardCharsets.UTF_8);
  }

  /**
   * Reads a configuration from {@code file}.
   *
   * @throws IOException when the file cannot be read or does not hold a valid configuration (the
   *     message names the file)
   */
  public static InternVlConfig read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    try {
      return fromJson(text);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private static Map<String, InternVlConfig> presets() {
    Map<String, InternVlConfig> out = new LinkedHashMap<>();
    ProjectorConfig projector = new ProjectorConfig(0.5, 1e-5);
    String tokenizer = "drivekd-synthetic-512";
    // 112 px / patch 14: an 8 x 8 grid, 16 vision tokens per image after the pixel shuffle.
    out.put(
        "student-tiny",
        new InternVlConfig(
            "student-tiny",
            tokenizer,
            0.02,
            new VisionConfig(112, 14, 32, 2, 2, 128, 1e-6, 0.1),
            projector,
            new LanguageConfig(512, 64, 4, 4, 2, 176, 1e6, 1e-6)));
    out.put(
        "teacher-small",
        new InternVlConfig(
            "teacher-small",
            tokenizer,
            0.02,
            new VisionConfig(112, 14, 64, 3, 4, 256, 1e-6, 0.1),
            projector,
            new LanguageConfig(512, 128, 6, 8, 2, 352, 1e6, 1e-6)));
    // The shapes users train, scaled to fit a CPU: InternViT at 224 px / patch 14 (a 16 x 16 grid,
    // 64 vision tokens per image after the pixel shuffle), a Qwen2 decoder with grouped-query
    // attention (head size 64) and an 8,192-id vocabulary. About 35 M parameters (student) and
    // 100 M (teacher, 2.9x); same tokenizer geometry, so one encodes for both.
    String baseTokenizer = "drivekd-synthetic-8192";
    out.put(
        "student-base",
        new InternVlConfig(
            "student-base",
            baseTokenizer,
            0.02,
            new VisionConfig(224, 14, 256, 4, 4, 1024, 1e-6, 0.1),
            projector,
            new LanguageConfig(8192, 512, 8, 8, 2, 1408, 1e6, 1e-6)));
    out.put(
        "teacher-base",
        new InternVlConfig(
            "teacher-base",
            baseTokenizer,
            0.02,
            new VisionConfig(224, 14, 384, 6, 6, 1536, 1e-6, 0.1),
            projector,
            new LanguageConfig(8192, 768, 12, 12, 4, 2048, 1e6, 1e-6)));
    return out;
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
