package dev.drivekd.core.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.TextBlock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A word-level tokenizer built from a dataset's own texts, for small native students and tests
 * where no Hugging Face {@code tokenizer.json} is at hand.
 *
 * <p>Text is split by {@link WordPreTokenizer} (markers, whitespace runs, words, single other
 * characters); each piece is one token, or {@code <unk>} when it is not in the vocabulary.
 * Whitespace pieces are tokens too, so {@link #decode} gives the text back exactly when every piece
 * is known and case is kept (the default). Markers ({@code <|im_start|>}, {@code <|im_end|>},
 * {@code <img>}, {@code </img>}) are always in the vocabulary and decode to their text; the control
 * tokens pad, unk and image placeholder are never produced from text (a literal {@code "<pad>"} in
 * the data is ordinary text) and are skipped by {@link #decode}.
 *
 * <p>Ids: pad 0, unk 1, image placeholder 2, then the markers in order, then the words by
 * decreasing count, ties by {@link String#compareTo}. The vocabulary is saved as versioned JSON
 * (docs/data-pipeline.md); {@link #identity()} is the SHA-256 of its canonical form.
 */
public final class WordTokenizer implements Tokenizer {

  /** The {@code format} value of the JSON file. */
  public static final String FORMAT = "drivekd-word-tokenizer";

  /** The JSON format version this class writes and reads. */
  public static final int VERSION = 1;

  /** Default padding token (id 0). */
  public static final String DEFAULT_PAD = "<pad>";

  /** Default unknown-word token (id 1). */
  public static final String DEFAULT_UNK = "<unk>";

  /** Default image placeholder token (id 2), named after InternVL's. */
  public static final String DEFAULT_IMAGE = "<IMG_CONTEXT>";

  private static final JsonMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
  private static final JsonMapper COMPACT = JsonMapper.builder().build();

  private final WordPreTokenizer preTokenizer;
  private final boolean lowercase;
  private final List<String> vocabulary;
  private final Map<String, Integer> ids;
  private final String padToken;
  private final String unkToken;
  private final String imageToken;
  private final String endOfTurnToken;
  private final long padId;
  private final long unkId;
  private final long imageId;
  private final OptionalLong endOfTurnId;
  private final Provenance provenance;
  private final String identity;

  private WordTokenizer(
      List<String> markers,
      boolean lowercase,
      List<String> vocabulary,
      String padToken,
      String unkToken,
      String imageToken,
      String endOfTurnToken,
      Provenance provenance,
      Path file) {
    this.preTokenizer = new WordPreTokenizer(markers);
    this.lowercase = lowercase;
    this.vocabulary = List.copyOf(vocabulary);
    this.padToken = padToken;
    this.unkToken = unkToken;
    this.imageToken = imageToken;
    this.endOfTurnToken = endOfTurnToken;
    this.provenance = provenance;
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < vocabulary.size(); i++) {
      Integer previous = index.putIfAbsent(vocabulary.get(i), i);
      if (previous != null) {
        throw invalid(
            file,
            "vocabulary[" + i + "]",
            "duplicate token " + quote(vocabulary.get(i)) + " (also at index " + previous + ")");
      }
    }
    this.ids = Collections.unmodifiableMap(index);
    this.padId = require(file, "special.pad", padToken);
    this.unkId = require(file, "special.unk", unkToken);
    this.imageId = require(file, "special.image", imageToken);
    this.endOfTurnId =
        endOfTurnToken == null
            ? OptionalLong.empty()
            : OptionalLong.of(require(file, "special.endOfTurn", endOfTurnToken));
    checkDistinct(file);
    for (int i = 0; i < markers.size(); i++) {
      if (!ids.containsKey(markers.get(i))) {
        throw invalid(
            file,
            "markers[" + i + "]",
            "marker " + quote(markers.get(i)) + " is not in the vocabulary");
      }
    }
    for (int i = 0; i < vocabulary.size(); i++) {
      String token = vocabulary.get(i);
      if (isControl(token) || preTokenizer.isMarker(token)) {
        continue;
      }
      List<String> pieces = preTokenizer.split(token);
      if (pieces.size() != 1) {
        throw invalid(
            file,
            "vocabulary[" + i + "]",
            "token "
                + quote(token)
                + " is not a single pre-tokenised piece (it splits into "
                + pieces.size()
                + "), so no text can produce it");
      }
      if (lowercase && !token.equals(token.toLowerCase(Locale.ROOT))) {
        throw invalid(
            file,
            "vocabulary[" + i + "]",
            "token " + quote(token) + " has upper case but the tokenizer lowercases");
      }
    }
    this.identity = sha256(canonicalJson());
  }

  /** A builder that counts texts and then fixes the vocabulary. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public long[] encode(String text) {
    List<String> pieces = preTokenizer.split(text);
    long[] out = new long[pieces.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = idOfPiece(pieces.get(i));
    }
    return out;
  }

  /** The pieces {@link #encode} maps to ids (after lowercasing when enabled). */
  public List<String> pieces(String text) {
    List<String> pieces = new ArrayList<>();
    for (String piece : preTokenizer.split(text)) {
      pieces.add(normalise(piece));
    }
    return pieces;
  }

  @Override
  public String decode(long[] tokenIds) {
    StringBuilder sb = new StringBuilder();
    for (long id : tokenIds) {
      if (id == padId || id == unkId || id == imageId) {
        continue;
      }
      sb.append(token(id));
    }
    return sb.toString();
  }

  /** The token string of {@code id}, control tokens included. */
  public String token(long id) {
    if (id < 0 || id >= vocabulary.size()) {
      throw new IllegalArgumentException(
          "token id " + id + " is outside the vocabulary [0, " + vocabulary.size() + ")");
    }
    return vocabulary.get((int) id);
  }

  /** The id of a token string, if it is in the vocabulary (no normalisation applied). */
  public OptionalLong id(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalLong.empty() : OptionalLong.of(id);
  }

  /** The vocabulary, id order. */
  public List<String> vocabulary() {
    return vocabulary;
  }

  /** The marker strings kept as single tokens. */
  public List<String> markers() {
    return preTokenizer.markers();
  }

  /** Whether non-marker pieces are lowercased before lookup. */
  public boolean lowercase() {
    return lowercase;
  }

  /** The id of unknown pieces. */
  public long unkId() {
    return unkId;
  }

  @Override
  public OptionalLong unknownId() {
    return OptionalLong.of(unkId);
  }

  /** How the vocabulary was built (not part of {@link #identity()}). */
  public Provenance provenance() {
    return provenance;
  }

  @Override
  public int vocabularySize() {
    return vocabulary.size();
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

  @Override
  public String identity() {
    return identity;
  }

  /**
   * Writes the tokenizer as JSON (format {@value #FORMAT}, version {@value #VERSION}).
   *
   * @throws IOException if the file cannot be written
   */
  public void save(Path file) throws IOException {
    ObjectNode root = canonicalNode();
    ObjectNode build = root.putObject("build");
    build.put("minFrequency", provenance.minFrequency());
    build.put("maxSize", provenance.maxSize());
    build.put("texts", provenance.texts());
    build.put("distinctPieces", provenance.distinctPieces());
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, JSON.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
  }

  /**
   * Reads a tokenizer written by {@link #save}.
   *
   * @throws TokenizerFormatException naming the file and field when it is unreadable or invalid
   */
  public static WordTokenizer load(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new TokenizerFormatException(
          file, null, "malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new TokenizerFormatException(file, null, "cannot read the file: " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw invalid(file, null, "expected a JSON object");
    }
    String format = text(file, root, "", "format", false);
    if (!FORMAT.equals(format)) {
      throw invalid(file, "format", "expected \"" + FORMAT + "\", found " + quote(format));
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isIntegralNumber()) {
      throw invalid(file, "version", "expected an integer");
    }
    if (version.asInt() != VERSION) {
      throw invalid(
          file,
          "version",
          "unsupported version " + version.asText() + "; this drivekd reads version " + VERSION);
    }
    JsonNode lower = root.get("lowercase");
    if (lower == null || !lower.isBoolean()) {
      throw invalid(file, "lowercase", "expected true or false");
    }
    List<String> markers = strings(file, root, "markers");
    JsonNode special = root.get("special");
    if (special == null || !special.isObject()) {
      throw invalid(file, "special", "expected an object with pad, unk, image and endOfTurn");
    }
    String pad = text(file, special, "special.", "pad", false);
    String unk = text(file, special, "special.", "unk", false);
    String image = text(file, special, "special.", "image", false);
    String endOfTurn = text(file, special, "special.", "endOfTurn", true);
    List<String> vocabulary = strings(file, root, "vocabulary");
    Provenance provenance = Provenance.UNKNOWN;
    JsonNode build = root.get("build");
    if (build != null && build.isObject()) {
      provenance =
          new Provenance(
              build.path("minFrequency").asInt(0),
              build.path("maxSize").asInt(0),
              build.path("texts").asLong(0),
              build.path("distinctPieces").asLong(0));
    }
    try {
      new WordPreTokenizer(markers);
    } catch (IllegalArgumentException e) {
      throw invalid(file, "markers", e.getMessage());
    }
    return new WordTokenizer(
        markers, lower.asBoolean(), vocabulary, pad, unk, image, endOfTurn, provenance, file);
  }

  /** The canonical JSON whose SHA-256 is {@link #identity()}: compact, fixed key order. */
  public String canonicalJson() {
    try {
      return COMPACT.writeValueAsString(canonicalNode());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the vocabulary", e);
    }
  }

  private ObjectNode canonicalNode() {
    ObjectNode root = COMPACT.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.put("lowercase", lowercase);
    ArrayNode m = root.putArray("markers");
    preTokenizer.markers().forEach(m::add);
    ObjectNode special = root.putObject("special");
    special.put("pad", padToken);
    special.put("unk", unkToken);
    special.put("image", imageToken);
    special.put("endOfTurn", endOfTurnToken);
    ArrayNode v = root.putArray("vocabulary");
    vocabulary.forEach(v::add);
    return root;
  }

  private long idOfPiece(String piece) {
    Integer id = ids.get(normalise(piece));
    return id == null ? unkId : id;
  }

  private String normalise(String piece) {
    if (!lowercase || preTokenizer.isMarker(piece)) {
      return piece;
    }
    return piece.toLowerCase(Locale.ROOT);
  }

  private boolean isControl(String token) {
    return token.equals(padToken) || token.equals(unkToken) || token.equals(imageToken);
  }

  private long require(Path file, String field, String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw invalid(file, field, "token " + quote(token) + " is not in the vocabulary");
    }
    return id;
  }

  private void checkDistinct(Path file) {
    if (padId == unkId || padId == imageId || unkId == imageId) {
      throw invalid(file, "special", "pad, unk and image must be three different tokens");
    }
    if (preTokenizer.isMarker(padToken)
        || preTokenizer.isMarker(unkToken)
        || preTokenizer.isMarker(imageToken)) {
      throw invalid(file, "special", "pad, unk and image must not be markers");
    }
  }

  private static String text(
      Path file, JsonNode node, String prefix, String field, boolean nullable) {
    JsonNode value = node.get(field);
    String name = prefix + field;
    if (value == null || value.isNull()) {
      if (nullable) {
        return null;
      }
      throw invalid(file, name, "missing; expected a string");
    }
    if (!value.isTextual() || value.asText().isEmpty()) {
      throw invalid(file, name, "expected a non-empty string");
    }
    return value.asText();
  }

  private static List<String> strings(Path file, JsonNode root, String field) {
    JsonNode array = root.get(field);
    if (array == null || !array.isArray()) {
      throw invalid(file, field, "expected a list of strings");
    }
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      JsonNode item = array.get(i);
      if (!item.isTextual() || item.asText().isEmpty()) {
        throw invalid(file, field + "[" + i + "]", "expected a non-empty string");
      }
      out.add(item.asText());
    }
    return out;
  }

  private static TokenizerFormatException invalid(Path file, String field, String problem) {
    if (file == null) {
      throw new IllegalArgumentException((field == null ? "" : field + ": ") + problem);
    }
    return new TokenizerFormatException(file, field, problem, null);
  }

  private static String quote(String s) {
    return s == null ? "null" : "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
  }

  static String sha256(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /**
   * How a vocabulary was built, kept in the saved file for provenance.
   *
   * @param minFrequency pieces seen fewer times were left out
   * @param maxSize the size cap (0 = none)
   * @param texts number of texts counted
   * @param distinctPieces distinct non-marker pieces seen
   */
  public record Provenance(int minFrequency, int maxSize, long texts, long distinctPieces) {
    /** Provenance of a file that does not say. */
    public static final Provenance UNKNOWN = new Provenance(0, 0, 0, 0);
  }

  /**
   * Counts the pieces of texts, then keeps those seen at least {@code minFrequency} times, most
   * frequent first, up to {@code maxSize} tokens in all (control tokens and markers included).
   */
  public static final class Builder {
    private final Map<String, Long> counts = new HashMap<>();
    private List<String> markers = WordPreTokenizer.DEFAULT_MARKERS;
    private String endOfTurn = "<|im_end|>";
    private String pad = DEFAULT_PAD;
    private String unk = DEFAULT_UNK;
    private String image = DEFAULT_IMAGE;
    private boolean lowercase;
    private int minFrequency = 1;
    private int maxSize;
    private long texts;
    private WordPreTokenizer counter;

    Builder() {}

    /**
     * Sets the marker strings kept as single tokens (before any text is added). Default {@link
     * WordPreTokenizer#DEFAULT_MARKERS}.
     */
    public Builder optMarkers(List<String> markers) {
      if (texts > 0) {
        throw new IllegalStateException("set the markers before adding texts");
      }
      this.markers = List.copyOf(markers);
      this.counter = null;
      return this;
    }

    /**
     * Sets the end-of-turn marker (must be one of the markers, or null). Default {@code
     * <|im_end|>}.
     */
    public Builder optEndOfTurn(String endOfTurn) {
      this.endOfTurn = endOfTurn;
      return this;
    }

    /**
     * Sets the control token strings. Defaults {@code <pad>}, {@code <unk>}, {@code <IMG_CONTEXT>}.
     */
    public Builder optControlTokens(String pad, String unk, String image) {
      this.pad = Objects.requireNonNull(pad, "pad");
      this.unk = Objects.requireNonNull(unk, "unk");
      this.image = Objects.requireNonNull(image, "image");
      return this;
    }

    /** Lowercases non-marker pieces (decode then loses case). Default false. */
    public Builder optLowercase(boolean lowercase) {
      if (texts > 0) {
        throw new IllegalStateException("set lowercasing before adding texts");
      }
      this.lowercase = lowercase;
      return this;
    }

    /** Keeps pieces seen at least this many times. Default 1. */
    public Builder optMinFrequency(int minFrequency) {
      if (minFrequency < 1) {
        throw new IllegalArgumentException("minFrequency must be >= 1, got " + minFrequency);
      }
      this.minFrequency = minFrequency;
      return this;
    }

    /** Caps the vocabulary at this many tokens in all; 0 means no cap. Default 0. */
    public Builder optMaxSize(int maxSize) {
      if (maxSize < 0) {
        throw new IllegalArgumentException("maxSize must be >= 0, got " + maxSize);
      }
      this.maxSize = maxSize;
      return this;
    }

    /** Counts the pieces of one text. */
    public Builder addText(String text) {
      if (counter == null) {
        counter = new WordPreTokenizer(markers);
      }
      texts++;
      for (String piece : counter.split(text)) {
        if (counter.isMarker(piece)) {
          continue;
        }
        String key = lowercase ? piece.toLowerCase(Locale.ROOT) : piece;
        counts.merge(key, 1L, Long::sum);
      }
      return this;
    }

    /** Counts the text blocks of a prompt (image blocks carry no text). */
    public Builder addBlocks(List<ContentBlock> blocks) {
      for (ContentBlock block : blocks) {
        if (block instanceof TextBlock text) {
          addText(text.text());
        }
      }
      return this;
    }

    /** Counts the training prompt of a sample: user turn with markers, then the answer turn. */
    public Builder addSample(DrivingSample sample) {
      return addBlocks(sample.trainingPrompt());
    }

    /** Counts the training prompts of every sample of a dataset. */
    public Builder addDataset(DrivingDataset dataset) {
      dataset.samples().forEach(this::addSample);
      return this;
    }

    /** Fixes the vocabulary. */
    public WordTokenizer build() {
      if (endOfTurn != null && !markers.contains(endOfTurn)) {
        throw new IllegalArgumentException(
            "end-of-turn token " + endOfTurn + " must be one of the markers " + markers);
      }
      List<String> vocabulary = new ArrayList<>();
      vocabulary.add(pad);
      vocabulary.add(unk);
      vocabulary.add(image);
      vocabulary.addAll(markers);
      if (maxSize > 0 && maxSize < vocabulary.size()) {
        throw new IllegalArgumentException(
            "maxSize "
                + maxSize
                + " is smaller than the "
                + vocabulary.size()
                + " control tokens and markers");
      }
      List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
      entries.removeIf(e -> e.getValue() < minFrequency || isReserved(e.getKey()));
      entries.sort(
          Map.Entry.<String, Long>comparingByValue()
              .reversed()
              .thenComparing(Map.Entry.comparingByKey()));
      for (Map.Entry<String, Long> e : entries) {
        if (maxSize > 0 && vocabulary.size() >= maxSize) {
          break;
        }
        vocabulary.add(e.getKey());
      }
      return new WordTokenizer(
          markers,
          lowercase,
          vocabulary,
          pad,
          unk,
          image,
          endOfTurn,
          new Provenance(minFrequency, maxSize, texts, counts.size()),
          null);
    }

    private boolean isReserved(String piece) {
      return piece.equals(pad) || piece.equals(unk) || piece.equals(image);
    }
  }
}
