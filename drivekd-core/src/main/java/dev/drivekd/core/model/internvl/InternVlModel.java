package dev.drivekd.core.model.internvl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.io.SafeTensors;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.checkpoint.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SortedSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A native InternVL3-style vision-language model (InternViT + pixel shuffle + {@code mlp1} + Qwen2)
 * built from DJL blocks, implementing the {@link VisionLanguageModel} contract: one forward returns
 * logits and the head-averaged attention maps of exactly the requested decoder layers.
 *
 * <p>Parameters carry Hugging Face's InternVL names ({@link #namedParameters()}); {@link
 * #save(Path)} writes {@code config.json} and {@code model.safetensors} under those names and
 * {@link #load(Path, Device)} reads them back, bit for bit. Initialisation is seeded and
 * reproducible on every machine. {@link #generate} decodes greedily with a key/value cache.
 */
public final class InternVlModel implements VisionLanguageModel {

  /** The configuration file of a saved model. */
  public static final String CONFIG_FILE = "config.json";

  /** The weight file of a saved model. */
  public static final String WEIGHTS_FILE = "model.safetensors";

  /** The SHA-256 of the weights, in {@code sha256sum} format, written by {@link #save}. */
  public static final String CHECKSUM_FILE = "model.safetensors.sha256";

  private static final Logger LOG = LoggerFactory.getLogger(InternVlModel.class);

  private final InternVlConfig config;
  private final NDManager manager;
  private final InternVlNetwork network;
  private final StepConstants constants;
  private final Map<String, Parameter> parameters;
  private final ParameterStore store;
  private final ModelCard card;
  private final Device device;

  private InternVlModel(InternVlConfig config, Device device, Long seed) {
    this.config = config;
    this.device = device;
    // the PyTorch engine, started offline (drivekd never downloads natives at run time)
    this.manager = ComputeDevice.engine().newBaseManager(device);
    boolean done = false;
    try {
      this.network = new InternVlNetwork(config);
      Map<String, Parameter> named = new LinkedHashMap<>();
      Map<String, ParameterInit> inits = new LinkedHashMap<>();
      network.collect("", named, inits);
      for (Map.Entry<String, Parameter> entry : named.entrySet()) {
        entry
            .getValue()
            .setInitializer(
                seed == null
                    ? ParameterInit.zeros()
                    : inits.get(entry.getKey()).seeded(seed, entry.getKey()));
      }
      network.initialize(manager, DataType.FLOAT32, new Shape(1, 1));
      this.parameters = Collections.unmodifiableMap(named);
      this.store = new ParameterStore(manager, false);
      this.constants = new StepConstants(manager, network.language().rotary());
      LanguageModel language = network.language();
      this.card =
          new ModelCard(
              config.name(),
              language.config().numHiddenLayers(),
              language.config().numAttentionHeads(),
              language.config().hiddenSize(),
              language.config().vocabSize(),
              config.tokensPerImage(),
              config.vision().imageSize(),
              config.tokenizer());
      done = true;
    } finally {
      if (!done) {
        manager.close();
      }
    }
  }

  /**
   * Builds a model with seeded initialisation: the same {@code (config, seed)} gives the same
   * weights everywhere.
   */
  public static InternVlModel create(InternVlConfig config, Device device, long seed) {
    InternVlModel model = new InternVlModel(config, device, seed);
    LOG.debug(
        "created {} ({} parameters) on {} with seed {}",
        config.name(),
        config.parameterCount(),
        device,
        seed);
    return model;
  }

  /**
   * Loads a model saved by {@link #save(Path)}: {@code dir/config.json} and {@code
   * dir/model.safetensors}, whose SHA-256 is checked first when {@code dir} holds the {@value
   * #CHECKSUM_FILE} that {@link #save} writes (a folder from elsewhere may lack it).
   *
   * @throws IOException when a file is missing or malformed, or a tensor is missing, extra or
   *     mis-shaped (the message names the tensor and the file)
   */
  public static InternVlModel load(Path dir, Device device) throws IOException {
    InternVlConfig config = InternVlConfig.read(dir.resolve(CONFIG_FILE));
    verifyChecksum(dir);
    InternVlModel model = new InternVlModel(config, device, null);
    try {
      model.loadWeights(dir.resolve(WEIGHTS_FILE));
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
    return model;
  }

  /**
   * Saves the model: {@code dir/model.safetensors} (Hugging Face names, float32) then {@code
   * dir/config.json}, each replaced atomically.
   */
  public void save(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, NDArray> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
      tensors.put(entry.getKey(), entry.getValue().getArray());
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("drivekd.model", "internvl");
    metadata.put("drivekd.config", config.name());
    // the checksum goes first and comes back last: a save that dies in between leaves weights
    // without a checksum (loaded unchecked), never a checksum of other weights
    Path checksum = dir.resolve(CHECKSUM_FILE);
    Files.deleteIfExists(checksum);
    SafeTensors.write(dir.resolve(WEIGHTS_FILE), tensors, metadata);
    DurableFiles.writeAtomically(
        checksum,
        (DataFingerprint.sha256(dir.resolve(WEIGHTS_FILE)) + "  " + WEIGHTS_FILE + "\n")
            .getBytes(StandardCharsets.US_ASCII));
    Path temp = Files.createTempFile(dir, CONFIG_FILE, ".tmp");
    try {
      config.write(temp);
      try {
        Files.move(
            temp,
            dir.resolve(CONFIG_FILE),
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, dir.resolve(CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
    LOG.debug("saved {} to {}", config.name(), dir);
  }

  /**
   * Checks {@code dir/model.safetensors} against {@code dir/}{@value #CHECKSUM_FILE} when that file
   * exists ({@code sha256sum -c} reads it too).
   *
   * @throws IOException naming the weights file when the digests differ
   */
  private static void verifyChecksum(Path dir) throws IOException {
    Path checksum = dir.resolve(CHECKSUM_FILE);
    if (!Files.isRegularFile(checksum)) {
      return;
    }
    String line = Files.readString(checksum, StandardCharsets.US_ASCII).strip();
    String expected = line.split("\\s+", 2)[0];
    Path weights = dir.resolve(WEIGHTS_FILE);
    String actual;
    try {
      actual = DataFingerprint.sha256(weights);
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
    if (!actual.equals(expected)) {
      throw new IOException(
          weights
              + ": SHA-256 mismatch: "
              + CHECKSUM_FILE
              + " says "
              + expected
              + ", the file hashes to "
              + actual
              + " (the weights were damaged after they were saved)");
    }
  }

  /**
   * Replaces every parameter with the tensor of the same name in a safetensors file. The file must
   * hold exactly this model's parameters with their shapes; floating types are converted to
   * float32.
   *
   * @throws IOException naming the file and the missing, extra or mis-shaped tensor
   */
  public void loadWeights(Path file) throws IOException {
    SafeTensors.Header header = SafeTensors.readHeader(file);
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
      SafeTensors.TensorInfo info = header.tensors().get(entry.getKey());
      if (info == null) {
        missing.add(entry.getKey());
        continue;
      }
      Shape expected = entry.getValue().getArray().getShape();
      if (!info.shape().equals(expected)) {
        throw new IOException(
            file
                + ": tensor \""
                + entry.getKey()
                + "\" has shape "
                + info.shape()
                + ", the "
                + config.name()
                + " model expects "
                + expected);
      }
      if (!info.dataType().loadedAs().isFloating()) {
        throw new IOException(
            file
                + ": tensor \""
                + entry.getKey()
                + "\" has dtype "
                + info.dataType()
                + ", expected a floating type");
      }
    }
    if (!missing.isEmpty()) {
      throw new IOException(
          file + ": missing tensor \"" + missing.get(0) + "\" (" + missing.size() + " missing)");
    }
    for (String name : header.tensors().keySet()) {
      if (!parameters.containsKey(name)) {
        throw new IOException(
            file
                + ": unexpected tensor \""
                + name
                + "\" (not a parameter of "
                + config.name()
                + ")");
      }
    }
    try (NDManager scratch = manager.newSubManager()) {
      SafeTensors.Contents contents = SafeTensors.read(file, scratch);
      for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
        NDArray loaded = contents.tensors().get(entry.getKey()).toType(DataType.FLOAT32, false);
        NDArray target = entry.getValue().getArray();
        target.set(loaded.toType(target.getDataType(), false).toByteBuffer());
      }
    }
    LOG.debug("loaded {} tensors from {}", parameters.size(), file);
  }

  /** The configuration this model was built from. */
  public InternVlConfig config() {
    return config;
  }

  /** Every parameter under its Hugging Face name, in a fixed order (vision, language, mlp1). */
  public Map<String, Parameter> namedParameters() {
    return parameters;
  }

  /** The network as a DJL block (for example to put into a {@code Model}). */
  public Block block() {
    return network;
  }

  @Override
  public ModelCard card() {
    return card;
  }

  @Override
  public Device device() {
    return device;
  }

  @Override
  public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
    checkDevice(batch);
    int depth = card.depth();
    SortedSet<Integer> layers = request.resolvedLayers(depth);
    InternVlNetwork.Pass pass =
        network.run(
            store,
            batch,
            layers,
            request.perHeadMaps(),
            request.hiddenStates(),
            request.logits(),
            training,
            constants);
    return new ModelOutput(
        pass.logits(), pass.averaged(), pass.perHead(), pass.hiddenStates(), depth, batch.layout());
  }

  /**
   * Greedy decoding with a key/value cache: the prompt is encoded once, then one token at a time.
   *
   * @param prompt one unpadded sequence ({@code B = 1}) with its images
   * @param maxNewTokens how many tokens to produce at most
   * @param stopId a token that ends generation; it is included as the last token when produced
   * @return the new tokens (not the prompt)
   */
  public long[] generate(VlmBatch prompt, int maxNewTokens, OptionalLong stopId) {
    return generate(prompt, maxNewTokens, stopId, card.vocabularySize());
  }

  /**
   * Greedy decoding over the first {@code vocabulary} ids only: a tokenizer smaller than the LM
   * head (heads are often padded; the presets have 512 rows whatever the word list) can decode
   * every token produced.
   *
   * @param vocabulary ids {@code 0 .. vocabulary-1} are candidates, at most the head's rows
   */
  public long[] generate(VlmBatch prompt, int maxNewTokens, OptionalLong stopId, int vocabulary) {
    checkDevice(prompt);
    if (vocabulary < 1 || vocabulary > card.vocabularySize()) {
      throw new IllegalArgumentException(
          "vocabulary must be in [1, "
              + card.vocabularySize()
              + "] (the LM head's rows), got "
              + vocabulary);
    }
    if (prompt.batchSize() != 1 || prompt.layout().length(0) != prompt.length()) {
      throw new IllegalArgumentException(
          "generation takes one unpadded prompt (B = 1, no padding), got B = "
              + prompt.batchSize()
              + ", length "
              + prompt.layout().length(0)
              + " of "
              + prompt.length());
    }
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
    }
    long[] tokens = new long[maxNewTokens];
    int produced = 0;
    if (maxNewTokens == 0) {
      return tokens;
    }
    NDManager batchManager = prompt.manager();
    try (NDScope scope = new NDScope();
        KvCache cache = new KvCache(card.depth())) {
      scope.suppressNotUsedWarning();
      NDArray embeds = network.inputEmbeddings(store, prompt, false);
      int position = prompt.length();
      NDArray logits = network.nextTokenLogits(store, embeds, 0, cache);
      String candidates = "0:" + vocabulary;
      while (true) {
        long token =
            vocabulary == card.vocabularySize()
                ? logits.argMax().getLong()
                : logits.get(candidates).argMax().getLong();
        logits.close();
        tokens[produced++] = token;
        if (produced == maxNewTokens || (stopId.isPresent() && stopId.getAsLong() == token)) {
          break;
        }
        NDArray id = batchManager.create(new long[] {token}, new Shape(1, 1));
        NDArray next = network.language().embedTokens().apply(store, id, false);
        logits = network.nextTokenLogits(store, next, position++, cache);
      }
    }
    return produced == tokens.length ? tokens : java.util.Arrays.copyOf(tokens, produced);
  }

  @Override
  public List<Pair<String, Parameter>> namedTrainableParameters() {
    List<Pair<String, Parameter>> out = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
      if (e.getValue().requiresGradient()) {
        out.add(new Pair<>(e.getKey(), e.getValue()));
      }
    }
    return Collections.unmodifiableList(out);
  }

  @Override
  public List<Parameter> trainableParameters() {
    List<Parameter> out = new ArrayList<>();
    for (Parameter parameter : parameters.values()) {
      if (parameter.requiresGradient()) {
        out.add(parameter);
      }
    }
    return Collections.unmodifiableList(out);
  }

  @Override
  public void freeze(boolean frozen) {
    parameters.values().forEach(p -> p.freeze(frozen));
  }

  /**
   * Freezes ({@code true}) or unfreezes the vision encoder and the projector ({@code
   * vision_model.*}, {@code mlp1.*}) only; the language model keeps its state.
   */
  @Override
  public void freezeVision(boolean frozen) {
    for (Map.Entry<String, Parameter> entry : parameters.entrySet()) {
      if (entry.getKey().startsWith("vision_model.") || entry.getKey().startsWith("mlp1.")) {
        entry.getValue().freeze(frozen);
      }
    }
  }

  /** The model's own manager, where the parameters (and optimizer state) live. */
  public NDManager manager() {
    return manager;
  }

  @Override
  public void close() {
    manager.close();
  }

  private void checkDevice(VlmBatch batch) {
    if (!batch.inputIds().getDevice().equals(device)) {
      throw new IllegalArgumentException(
          "the batch is on " + batch.inputIds().getDevice() + ", the model on " + device);
    }
  }

  @Override
  public String toString() {
    return "InternVlModel{" + config.name() + ", " + config.parameterCount() + " parameters}";
  }
}
