package dev.drivekd.core.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.engine.ComputeDevice;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Tokenizer} over a Hugging Face {@code tokenizer.json}, run by DJL's tokenizers extension
 * (the Rust {@code tokenizers} library through JNI). As method.md 1.1 requires, no special token is
 * added ({@code addSpecialTokens=false}), and neither truncation nor padding is applied: each text
 * block is encoded whole and on its own, padding is the batch encoder's job.
 *
 * <p>Offline: the native library ships inside the tokenizers jar (linux-x86_64, linux-aarch64,
 * osx-aarch64, win-x86_64, CPU flavor) and is extracted to DJL's cache folder. DJL would download a
 * CUDA flavor instead when it sees a GPU and is <em>not</em> offline, so {@link Builder#build()}
 * sets {@code ai.djl.offline=true} and {@code RUST_FLAVOR=cpu} unless the caller set them. Only
 * {@code tokenizer.json} is read; {@code tokenizer_config.json} is not.
 *
 * <p>The pad, image-context and end-of-turn tokens are looked up by their text, first among the
 * file's {@code added_tokens}, then in the model vocabulary. Defaults follow InternVL3: {@code
 * <|endoftext|>}, {@code <IMG_CONTEXT>}, {@code <|im_end|>}. Close the adapter to free the native
 * tokenizer.
 */
public final class HuggingFaceTokenizerAdapter implements Tokenizer, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HuggingFaceTokenizerAdapter.class);

  /** The system property (or environment variable) DJL reads to pick the native flavor. */
  public static final String FLAVOR_PROPERTY = "RUST_FLAVOR";

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final JsonMapper SORTED =
      JsonMapper.builder().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();

  private final Path file;
  private final HuggingFaceTokenizer tokenizer;
  private final int vocabularySize;
  private final long padId;
  private final long imageId;
  private final OptionalLong endOfTurnId;
  private final String identity;

  private HuggingFaceTokenizerAdapter(
      Path file,
      HuggingFaceTokenizer tokenizer,
      int vocabularySize,
      long padId,
      long imageId,
      OptionalLong endOfTurnId,
      String identity) {
    this.file = file;
    this.tokenizer = tokenizer;
    this.vocabularySize = vocabularySize;
    this.padId = padId;
    this.imageId = imageId;
    this.endOfTurnId = endOfTurnId;
    this.identity = identity;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public long[] encode(String text) {
    Objects.requireNonNull(text, "text");
    if (text.isEmpty()) {
      return new long[0];
    }
    return tokenizer.encode(text, false, false).getIds();
  }

  /** The token strings of {@code text}, as the model sees them (for inspection). */
  public String[] tokens(String text) {
    return tokenizer.encode(text, false, false).getTokens();
  }

  @Override
  public String decode(long[] ids) {
    return tokenizer.decode(ids, true);
  }

  @Override
  public int vocabularySize() {
    return vocabularySize;
  }

  @Override
  public long padId() {
    return padId;
  }

  @Override
  public long imageTokenId() {
    return imageId;
  }

  @Override
  public OptionalLong endOfTurnId() {
    return endOfTurnId;
  }

  /**
   * The SHA-256 of the tokenizer file's canonical form: the parsed JSON without its {@code
   * truncation} and {@code padding} settings (which this adapter disables), written compactly with
   * object keys sorted. Reformatting the file does not change it.
   */
  @Override
  public String identity() {
    return identity;
  }

  /** The {@code tokenizer.json} this adapter was loaded from. */
  public Path file() {
    return file;
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** Builds a {@link HuggingFaceTokenizerAdapter}. */
  public static final class Builder {
    private Path path;
    private String padToken = "<|endoftext|>";
    private String imageToken = "<IMG_CONTEXT>";
    private String endOfTurnToken = "<|im_end|>";

    Builder() {}

    /** Sets the {@code tokenizer.json} file, or a folder holding one (required). */
    public Builder setTokenizerPath(Path path) {
      this.path = Objects.requireNonNull(path, "path");
      return this;
    }

    /** Sets the padding token. Default {@code <|endoftext|>} (Qwen2's pad). */
    public Builder optPadToken(String token) {
      this.padToken = Objects.requireNonNull(token, "token");
      return this;
    }

    /** Sets the vision placeholder token. Default {@code <IMG_CONTEXT>} (InternVL). */
    public Builder optImageToken(String token) {
      this.imageToken = Objects.requireNonNull(token, "token");
      return this;
    }

    /** Sets the end-of-turn token, or null for none. Default {@code <|im_end|>}. */
    public Builder optEndOfTurnToken(String token) {
      this.endOfTurnToken = token;
      return this;
    }

    /**
     * Reads the file and starts the native tokenizer.
     *
     * @throws TokenizerFormatException naming the file (and field) when it is missing, unreadable,
     *     not a tokenizer, or lacks a configured token
     */
    public HuggingFaceTokenizerAdapter build() {
      if (path == null) {
        throw new IllegalStateException("setTokenizerPath is required");
      }
      Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new TokenizerFormatException(file, null, "cannot read the tokenizer file: " + e, e);
      }
      JsonNode root;
      try {
        root = JSON.readTree(bytes);
      } catch (IOException e) {
        String message =
            e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
        throw new TokenizerFormatException(file, null, "malformed JSON: " + message, e);
      }
      if (root == null || !root.isObject()) {
        throw new TokenizerFormatException(file, null, "expected a JSON object", null);
      }
      Map<String, Long> added = addedTokens(file, root);
      Map<String, Long> vocab = modelVocabulary(file, root);
      long maxId = -1;
      for (long id : added.values()) {
        maxId = Math.max(maxId, id);
      }
      for (long id : vocab.values()) {
        maxId = Math.max(maxId, id);
      }
      long pad = lookup(file, added, vocab, padToken, "pad");
      long image = lookup(file, added, vocab, imageToken, "image");
      OptionalLong eot =
          endOfTurnToken == null
              ? OptionalLong.empty()
              : OptionalLong.of(lookup(file, added, vocab, endOfTurnToken, "end-of-turn"));
      String identity = WordTokenizer.sha256(canonical(file, root));

      ensureOfflineNativeLibrary();
      Map<String, String> options = new HashMap<>();
      options.put("addSpecialTokens", "false");
      options.put("truncation", "false");
      options.put("padding", "false");
      HuggingFaceTokenizer hf;
      try (InputStream in = new ByteArrayInputStream(bytes)) {
        hf = HuggingFaceTokenizer.newInstance(in, options);
      } catch (IOException | RuntimeException e) {
        throw new TokenizerFormatException(
            file, null, "the tokenizers library rejected the file: " + e.getMessage(), e);
      }
      LOG.debug(
          "Loaded {} (vocabulary {}, pad {}, image {}, end of turn {})",
          file,
          maxId + 1,
          pad,
          image,
          eot);
      return new HuggingFaceTokenizerAdapter(
          file, hf, Math.toIntExact(maxId + 1), pad, image, eot, identity);
    }

    private static void ensureOfflineNativeLibrary() {
      ComputeDevice.requireOffline();
      if (System.getenv(FLAVOR_PROPERTY) == null && System.getProperty(FLAVOR_PROPERTY) == null) {
        System.setProperty(FLAVOR_PROPERTY, "cpu");
      }
    }

    private static long lookup(
        Path file, Map<String, Long> added, Map<String, Long> vocab, String token, String role) {
      Long id = added.get(token);
      if (id == null) {
        id = vocab.get(token);
      }
      if (id == null) {
        throw new TokenizerFormatException(
            file,
            "added_tokens",
            "the "
                + role
                + " token \""
                + token
                + "\" is neither an added token nor in model.vocab; configure another one",
            null);
      }
      return id;
    }

    private static Map<String, Long> addedTokens(Path file, JsonNode root) {
      Map<String, Long> out = new HashMap<>();
      JsonNode list = root.get("added_tokens");
      if (list == null || list.isNull()) {
        return out;
      }
      if (!list.isArray()) {
        throw new TokenizerFormatException(file, "added_tokens", "expected a list", null);
      }
      for (int i = 0; i < list.size(); i++) {
        JsonNode item = list.get(i);
        JsonNode id = item.get("id");
        JsonNode content = item.get("content");
        if (id == null || !id.canConvertToLong() || content == null || !content.isTextual()) {
          throw new TokenizerFormatException(
              file, "added_tokens[" + i + "]", "expected an object with id and content", null);
        }
        out.put(content.asText(), id.asLong());
      }
      return out;
    }

    private static Map<String, Long> modelVocabulary(Path file, JsonNode root) {
      JsonNode model = root.get("model");
      if (model == null || !model.isObject()) {
        throw new TokenizerFormatException(file, "model", "expected an object", null);
      }
      JsonNode vocab = model.get("vocab");
      Map<String, Long> out = new HashMap<>();
      if (vocab != null && vocab.isObject()) {
        Iterator<Map.Entry<String, JsonNode>> it = vocab.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          if (!e.getValue().canConvertToLong()) {
            throw new TokenizerFormatException(
                file, "model.vocab." + e.getKey(), "expected an integer id", null);
          }
          out.put(e.getKey(), e.getValue().asLong());
        }
      } else if (vocab != null && vocab.isArray()) {
        // Unigram: [[piece, score], ...], id = position
        for (int i = 0; i < vocab.size(); i++) {
          JsonNode entry = vocab.get(i);
          if (!entry.isArray() || entry.isEmpty() || !entry.get(0).isTextual()) {
            throw new TokenizerFormatException(
                file, "model.vocab[" + i + "]", "expected [piece, score]", null);
          }
          out.putIfAbsent(entry.get(0).asText(), (long) i);
        }
      } else {
        throw new TokenizerFormatException(
            file, "model.vocab", "expected an object (token to id) or a list of pieces", null);
      }
      return out;
    }

    private static String canonical(Path file, JsonNode root) {
      ObjectNode copy = root.deepCopy();
      copy.remove("truncation");
      copy.remove("padding");
      try {
        Object plain = JSON.treeToValue(copy, Object.class);
        return SORTED.writeValueAsString(plain);
      } catch (JsonProcessingException e) {
        throw new TokenizerFormatException(file, null, "cannot canonicalise: " + e, e);
      }
    }
  }
}
