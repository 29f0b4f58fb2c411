package dev.drivekd.teachers.torchscript;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.model.ModelCard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The JSON file beside a TorchScript VLM ({@code model.pt} → {@code model.json}) that says what the
 * module is: its sizes, its tokenizer, the dtype its weights and outputs use, and which version of
 * drivekd's input/output contract its {@code forward} implements (docs/torchscript.md).
 *
 * <pre>{@code
 * {"format": "drivekd-torchscript-vlm", "contract_version": 1, "name": "internvl3-1b",
 *  "depth": 24, "heads": 14, "hidden_size": 896, "vocab_size": 151674,
 *  "tokens_per_image": 256, "image_size": 448, "tokenizer": "qwen2.5-151643",
 *  "dtype": "float32", "hidden_states": true}
 * }</pre>
 *
 * <p>{@code dtype} ({@code float32} or {@code float16}) defaults to float32 and {@code
 * hidden_states} (whether {@code forward} honours {@code output_hidden_states}) to false; other
 * fields are required. Unknown fields (for example {@code source}) are ignored. {@code bfloat16} is
 * refused: DJL 0.36's PyTorch engine cannot hold a bfloat16 array (creating or casting one
 * terminates the JVM from native code), so a bf16 module is exported with float32 inputs and
 * outputs instead (weights in bf16 inside, a cast at each end; docs/torchscript.md).
 *
 * @param file where the descriptor was read from
 * @param contractVersion the contract version {@code forward} implements
 * @param name a human-readable name
 * @param depth decoder layers {@code N}
 * @param heads query heads per decoder layer {@code H}
 * @param hiddenSize decoder hidden size {@code D}
 * @param vocabularySize LM head rows {@code V}
 * @param tokensPerImage vision tokens one image occupies
 * @param imageSize square image side {@code S} in pixels
 * @param tokenizer tokenizer identity
 * @param dataType dtype of pixel values, logits, maps and hidden states
 * @param hiddenStates whether the module returns hidden states when asked
 */
public record TorchScriptDescriptor(
    Path file,
    int contractVersion,
    String name,
    int depth,
    int heads,
    int hiddenSize,
    int vocabularySize,
    int tokensPerImage,
    int imageSize,
    String tokenizer,
    DataType dataType,
    boolean hiddenStates) {

  /** The value of {@code format} every descriptor carries. */
  public static final String FORMAT = "drivekd-torchscript-vlm";

  /** The contract version this drivekd implements. */
  public static final int CONTRACT_VERSION = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The descriptor path of a model file: the same name with {@code .json} for {@code .pt}. */
  public static Path pathFor(Path modelFile) {
    String fileName = modelFile.getFileName().toString();
    String base =
        fileName.endsWith(".pt") ? fileName.substring(0, fileName.length() - 3) : fileName;
    return modelFile.resolveSibling(base + ".json");
  }

  /**
   * Reads and checks a descriptor.
   *
   * @throws TorchScriptModelException naming the file when it is missing, not JSON, of another
   *     format or contract version, or when a field is missing or invalid
   */
  public static TorchScriptDescriptor read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new TorchScriptModelException(
          file,
          "TorchScript descriptor not found; every .pt needs a JSON descriptor beside it with the"
              + " same name (see docs/torchscript.md)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new TorchScriptModelException(
          file, "descriptor is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new TorchScriptModelException(file, "cannot read descriptor: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new TorchScriptModelException(file, "descriptor must be a JSON object");
    }
    String format = text(file, root, "format");
    if (!FORMAT.equals(format)) {
      throw new TorchScriptModelException(
          file, "descriptor format is '" + format + "', expected '" + FORMAT + "'");
    }
    int version = integer(file, root, "contract_version", 1);
    if (version != CONTRACT_VERSION) {
      throw new TorchScriptModelException(
          file,
          "contract_version "
              + version
              + " is not supported; this drivekd implements version "
              + CONTRACT_VERSION);
    }
    return new TorchScriptDescriptor(
        file,
        version,
        text(file, root, "name"),
        integer(file, root, "depth", 1),
        integer(file, root, "heads", 1),
        integer(file, root, "hidden_size", 1),
        integer(file, root, "vocab_size", 1),
        integer(file, root, "tokens_per_image", 1),
        integer(file, root, "image_size", 1),
        text(file, root, "tokenizer"),
        dataType(file, root),
        flag(file, root, "hidden_states"));
  }

  /** The model card these facts make. */
  public ModelCard card() {
    return new ModelCard(
        name, depth, heads, hiddenSize, vocabularySize, tokensPerImage, imageSize, tokenizer);
  }

  private static String text(Path file, JsonNode root, String field) {
    JsonNode node = root.get(field);
    if (node == null || !node.isTextual() || node.asText().isBlank()) {
      throw new TorchScriptModelException(
          file, "descriptor field '" + field + "' is required (a non-empty string)");
    }
    return node.asText();
  }

  private static int integer(Path file, JsonNode root, String field, int min) {
    JsonNode node = root.get(field);
    if (node == null || !node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < min) {
      throw new TorchScriptModelException(
          file,
          "descriptor field '"
              + field
              + "' is required (an integer >= "
              + min
              + "), got "
              + (node == null ? "nothing" : node.toString()));
    }
    return node.asInt();
  }

  private static boolean flag(Path file, JsonNode root, String field) {
    JsonNode node = root.get(field);
    if (node == null) {
      return false;
    }
    if (!node.isBoolean()) {
      throw new TorchScriptModelException(
          file, "descriptor field '" + field + "' must be true or false, got " + node);
    }
    return node.asBoolean();
  }

  private static DataType dataType(Path file, JsonNode root) {
    JsonNode node = root.get("dtype");
    if (node == null) {
      return DataType.FLOAT32;
    }
    switch (node.asText().toLowerCase(Locale.ROOT)) {
      case "float32":
        return DataType.FLOAT32;
      case "float16":
        return DataType.FLOAT16;
      case "bfloat16":
        throw new TorchScriptModelException(
            file,
            "descriptor field 'dtype' is bfloat16, which DJL 0.36's PyTorch engine cannot hold"
                + " (a bfloat16 array terminates the JVM); export the module with float32 inputs"
                + " and outputs, its weights may stay bfloat16 inside (cast the pixel values in"
                + " and the logits, maps and hidden states out), and declare \"dtype\": \"float32\"");
      default:
        throw new TorchScriptModelException(
            file, "descriptor field 'dtype' must be float32 or float16, got " + node);
    }
  }
}
