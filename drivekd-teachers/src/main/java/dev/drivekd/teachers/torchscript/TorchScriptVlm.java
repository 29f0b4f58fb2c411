package dev.drivekd.teachers.torchscript;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.drivekd.core.attention.HeadAverage;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.engine.HostData;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vision-language model exported to TorchScript, run through DJL's PyTorch engine, as a teacher
 * (frozen) or a student (trainable). The {@code .pt} implements drivekd's contract version 1
 * (docs/torchscript.md):
 *
 * <pre>
 * forward(input_ids int64 [B,L], pixel_values float [N,3,S,S] (N = 0: no image),
 *         image_mask bool [B,L], attention_mask int64 [B,L] (1 = valid, right padding),
 *         layers int64 [k] (resolved, ascending), output_hidden_states bool [])
 *   -> (logits [B,L,V], List[[B,H,L,L]] in the order of layers, List[[B,L,D]] (N+1 or empty))
 * </pre>
 *
 * DJL flattens that tuple into {@code 1 + k (+ N + 1)} arrays; every forward checks their count and
 * shapes against the descriptor ({@link TorchScriptDescriptor}) and fails naming the file. Only the
 * requested layers' maps cross the boundary; they are head-averaged with {@link HeadAverage}.
 *
 * <p>Training: a model loaded trainable ({@code trainParam=true}) records gradients when {@code
 * training} is true inside a {@code GradientCollector}; {@code training} also switches the module
 * between {@code train()} and {@code eval()} (dropout). With {@code training} false DJL runs the
 * module under no-grad. A frozen model never records gradients, and cannot be unfrozen (libtorch
 * loads its weights as inference tensors). Each forward turns libtorch's TorchScript graph
 * optimiser off on the calling thread unless {@value #GRAPH_OPTIMIZER_PROPERTY} is set: with it on,
 * a run with gradients followed by one without failed.
 */
public final class TorchScriptVlm implements VisionLanguageModel {

  /** DJL's switch for libtorch's graph-executor optimisation; unset, drivekd turns it off. */
  public static final String GRAPH_OPTIMIZER_PROPERTY = "ai.djl.pytorch.graph_optimizer";

  private static final Logger LOG = LoggerFactory.getLogger(TorchScriptVlm.class);

  private final Path modelFile;
  private final TorchScriptDescriptor descriptor;
  private final ModelCard card;
  private final Model model;
  private final PtSymbolBlock block;
  private final ParameterStore parameterStore;
  private final boolean loadedTrainable;
  private boolean closed;

  private TorchScriptVlm(
      Path modelFile, TorchScriptDescriptor descriptor, Model model, boolean loadedTrainable) {
    this.modelFile = modelFile;
    this.loadedTrainable = loadedTrainable;
    this.descriptor = descriptor;
    this.card = descriptor.card();
    this.model = model;
    this.block = (PtSymbolBlock) model.getBlock();
    this.parameterStore = new ParameterStore(model.getNDManager(), false);
    // PtSymbolBlock assumes a freshly loaded module is in train mode and only switches on a change
    // of the training flag; a module saved after eval() would otherwise train without dropout.
    JniUtils.enableTrainingMode(block);
  }

  /**
   * Loads {@code modelFile} (a {@code .pt}, or a folder holding {@code model.pt}) and its
   * descriptor onto the device {@link ComputeDevice#select()} picks, and checks one small forward
   * against the descriptor.
   *
   * @param trainable true for a student (parameters receive gradients), false for a teacher
   * @throws TorchScriptModelException naming the file when the model, its descriptor or its outputs
   *     do not meet the contract
   */
  public static TorchScriptVlm load(Path modelFile, boolean trainable) {
    return builder().setModelFile(modelFile).optTrainable(trainable).build();
  }

  /** A builder for the less common options (device, skipping the load-time check). */
  public static Builder builder() {
    return new Builder();
  }

  /** The {@code .pt} this model was loaded from. */
  public Path modelFile() {
    return modelFile;
  }

  /** The descriptor read beside the model file. */
  public TorchScriptDescriptor descriptor() {
    return descriptor;
  }

  @Override
  public ModelCard card() {
    return card;
  }

  @Override
  public Device device() {
    return model.getNDManager().getDevice();
  }

  @Override
  public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
    requireOpen();
    List<Integer> layers = new ArrayList<>(request.resolvedLayers(card.depth()));
    boolean hidden = request.hiddenStates();
    if (hidden && !descriptor.hiddenStates()) {
      throw new UnsupportedOperationException(
          descriptor.file()
              + " says \"hidden_states\": false, so "
              + modelFile.getFileName()
              + " cannot return hidden states; export it with output_hidden_states support");
    }
    checkBatch(batch);
    NDList outputs = run(batch, layers, hidden, training);
    try {
      return unpack(batch, request, layers, hidden, outputs);
    } catch (RuntimeException e) {
      outputs.close();
      throw e;
    }
  }

  @Override
  public List<Parameter> trainableParameters() {
    requireOpen();
    List<Parameter> out = new ArrayList<>();
    for (Parameter parameter : block.getParameters().values()) {
      if (parameter.requiresGradient()) {
        out.add(parameter);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** Every parameter of the module, trainable or not, in the module's order. */
  public List<Parameter> parameters() {
    requireOpen();
    return List.copyOf(block.getParameters().values());
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException when unfreezing a model loaded frozen: libtorch then holds the
   *     weights as inference tensors, which cannot require gradients; load it trainable and call
   *     {@code freeze(true)} instead
   */
  @Override
  public void freeze(boolean frozen) {
    requireOpen();
    if (!frozen && !loadedTrainable) {
      throw new IllegalStateException(
          modelFile
              + " was loaded frozen (trainParam=false), so libtorch holds its weights as"
              + " inference tensors that cannot require gradients; load it trainable and call"
              + " freeze(true) where it must not train");
    }
    block.freezeParameters(frozen);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      model.close();
    }
  }

  @Override
  public String toString() {
    return "TorchScriptVlm{" + card.name() + ", " + modelFile + "}";
  }

  private NDList run(VlmBatch batch, List<Integer> layers, boolean hidden, boolean training) {
    TokenLayout layout = batch.layout();
    try (NDManager scratch = batch.manager().newSubManager()) {
      NDArray pixels = pixelValues(batch, scratch);
      NDArray imageMask = layout.imageMask(scratch);
      NDArray attentionMask = layout.validMask(scratch).toType(DataType.INT64, false);
      // owned: the module may save what it reads for its backward pass (engine.HostData)
      NDArray layerIds =
          HostData.owned(scratch.create(layers.stream().mapToLong(Integer::longValue).toArray()));
      NDArray wantHidden = HostData.owned(scratch.create(hidden));
      // Input 0 decides where DJL creates the outputs: the batch's own manager.
      NDList inputs =
          new NDList(batch.inputIds(), pixels, imageMask, attentionMask, layerIds, wantHidden);
      if (System.getProperty(GRAPH_OPTIMIZER_PROPERTY) == null) {
        // The profiling executor specialises a module on its first runs; a module first run with
        // gradients then without failed ("Inference tensors cannot be saved for backward").
        // Plain interpretation has no such state. Thread-local in libtorch; DJL's property wins.
        JniUtils.setGraphExecutorOptimize(false);
      }
      try {
        return block.forward(parameterStore, inputs, training);
      } catch (EngineException e) {
        throw new TorchScriptModelException(
            modelFile,
            "forward failed for a batch of "
                + batch.batchSize()
                + "x"
                + batch.length()
                + " tokens with "
                + batch.imageCount()
                + " images and layers "
                + layers
                + " (does it implement contract version "
                + TorchScriptDescriptor.CONTRACT_VERSION
                + "? see docs/torchscript.md): "
                + e.getMessage(),
            e);
      }
    }
  }

  private NDArray pixelValues(VlmBatch batch, NDManager scratch) {
    int side = card.imageSize();
    DataType type = descriptor.dataType();
    if (batch.pixelValues() == null) {
      return scratch.zeros(new Shape(0, 3, side, side), type);
    }
    NDArray pixels = batch.pixelValues();
    if (pixels.getDataType() == type) {
      return pixels;
    }
    NDArray cast = pixels.toType(type, false);
    cast.attach(scratch);
    return cast;
  }

  private void checkBatch(VlmBatch batch) {
    if (!batch.inputIds().getDevice().equals(device())) {
      throw new IllegalArgumentException(
          "the batch is on " + batch.inputIds().getDevice() + " but " + this + " on " + device());
    }
    int images = batch.imageCount();
    if (images > 0) {
      Shape shape = batch.pixelValues().getShape();
      int side = card.imageSize();
      if (shape.get(1) != 3 || shape.get(2) != side || shape.get(3) != side) {
        throw new IllegalArgumentException(
            card.name() + " takes images [N, 3, " + side + ", " + side + "], got " + shape);
      }
    }
    TokenLayout layout = batch.layout();
    long positions = 0;
    for (int b = 0; b < layout.batchSize(); b++) {
      positions += layout.imageTokenCount(b);
    }
    long expected = (long) images * card.tokensPerImage();
    if (positions != expected) {
      throw new IllegalArgumentException(
          "the layout has "
              + positions
              + " vision positions but "
              + images
              + " images of "
              + card.tokensPerImage()
              + " tokens give "
              + expected
              + " ("
              + card.name()
              + ")");
    }
  }

  private ModelOutput unpack(
      VlmBatch batch,
      ForwardRequest request,
      List<Integer> layers,
      boolean hidden,
      NDList outputs) {
    long b = batch.batchSize();
    long length = batch.length();
    int hiddenCount = hidden ? card.depth() + 1 : 0;
    int expected = 1 + layers.size() + hiddenCount;
    if (outputs.size() != expected) {
      throw new TorchScriptModelException(
          modelFile,
          "forward returned "
              + outputs.size()
              + " tensors, expected "
              + expected
              + " (logits, "
              + layers.size()
              + " attention maps for layers "
              + layers
              + (hidden ? ", " + hiddenCount + " hidden states" : ", no hidden states")
              + "); a module that ignores 'layers' or has another depth than the descriptor's "
              + card.depth()
              + " does not meet the contract");
    }
    NDArray logits = outputs.get(0);
    checkShape(logits, new Shape(b, length, card.vocabularySize()), "logits [B, L, V]");
    SortedMap<Integer, NDArray> averaged = new TreeMap<>();
    SortedMap<Integer, NDArray> perHead = new TreeMap<>();
    Shape mapShape = new Shape(b, card.heads(), length, length);
    for (int i = 0; i < layers.size(); i++) {
      checkShape(outputs.get(1 + i), mapShape, "attention map of layer " + layers.get(i));
    }
    List<NDArray> hiddenStates = new ArrayList<>(hiddenCount);
    Shape hiddenShape = new Shape(b, length, card.hiddenSize());
    for (int i = 0; i < hiddenCount; i++) {
      NDArray state = outputs.get(1 + layers.size() + i);
      checkShape(state, hiddenShape, "hidden state " + i);
      hiddenStates.add(state);
    }
    for (int i = 0; i < layers.size(); i++) {
      NDArray map = outputs.get(1 + i);
      averaged.put(layers.get(i), HeadAverage.of(map));
      if (request.perHeadMaps()) {
        perHead.put(layers.get(i), map);
      } else {
        // The graph keeps the tensor for backward; only the Java handle goes.
        map.close();
      }
    }
    return new ModelOutput(logits, averaged, perHead, hiddenStates, card.depth(), batch.layout());
  }

  private void checkShape(NDArray array, Shape expected, String what) {
    if (!array.getShape().equals(expected)) {
      throw new TorchScriptModelException(
          modelFile,
          what
              + " has shape "
              + array.getShape()
              + ", expected "
              + expected
              + " from the descriptor "
              + descriptor.file().getFileName());
    }
    if (array.getDataType() != descriptor.dataType()) {
      throw new TorchScriptModelException(
          modelFile,
          what
              + " has dtype "
              + array.getDataType()
              + ", the descriptor says "
              + descriptor.dataType());
    }
  }

  /**
   * Runs one text token, no image, asking for the last layer only: a module with fewer layers than
   * the descriptor fails, one that ignores {@code layers} returns too many maps, a wrong head
   * count, vocabulary or (with hidden states) depth gives wrong shapes or counts.
   */
  private void verify() {
    ForwardRequest request = ForwardRequest.attentionOf(card.depth() - 1);
    if (descriptor.hiddenStates()) {
      request = request.withHiddenStates();
    }
    try (NDManager probe = model.getNDManager().newSubManager()) {
      TokenLayout layout = TokenLayout.withoutVisionPositions(1, 1);
      VlmBatch batch = new VlmBatch(probe.create(new long[][] {{0L}}), null, layout);
      forward(batch, request, false);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  /** Options for {@link TorchScriptVlm}: the model file, trainable or frozen, device, check. */
  public static final class Builder {
    private Path modelFile;
    private boolean trainable;
    private Device device;
    private boolean verify = true;

    private Builder() {}

    /** The {@code .pt} file (its descriptor lies beside it), or a folder with {@code model.pt}. */
    public Builder setModelFile(Path modelFile) {
      this.modelFile = modelFile;
      return this;
    }

    /** Loads the parameters trainable ({@code trainParam=true}); default false (frozen). */
    public Builder optTrainable(boolean trainable) {
      this.trainable = trainable;
      return this;
    }

    /** The device to load onto; default {@link ComputeDevice#select()}. */
    public Builder optDevice(Device device) {
      this.device = device;
      return this;
    }

    /**
     * Whether to run one tiny forward after loading to check outputs against the descriptor;
     * default true. Every forward checks its outputs anyway.
     */
    public Builder optVerify(boolean verify) {
      this.verify = verify;
      return this;
    }

    /**
     * Loads the model.
     *
     * @throws TorchScriptModelException naming the file when loading or the check fails
     */
    public TorchScriptVlm build() {
      if (modelFile == null) {
        throw new IllegalArgumentException("setModelFile is required");
      }
      Path file = Files.isDirectory(modelFile) ? modelFile.resolve("model.pt") : modelFile;
      file = file.toAbsolutePath().normalize();
      if (!Files.isRegularFile(file)) {
        throw new TorchScriptModelException(file, "TorchScript model file not found");
      }
      String fileName = file.getFileName().toString();
      if (!fileName.endsWith(".pt")) {
        throw new TorchScriptModelException(file, "a TorchScript model file must end in .pt");
      }
      TorchScriptDescriptor descriptor =
          TorchScriptDescriptor.read(TorchScriptDescriptor.pathFor(file));
      Device target = device != null ? device : ComputeDevice.select();
      String name = fileName.substring(0, fileName.length() - 3);
      Model model = Model.newInstance(descriptor.name(), target, "PyTorch");
      TorchScriptVlm vlm;
      try {
        model.load(
            file.getParent(),
            name,
            Map.of("trainParam", Boolean.toString(trainable), "mapLocation", "true"));
        vlm = new TorchScriptVlm(file, descriptor, model, trainable);
      } catch (IOException | MalformedModelException | EngineException e) {
        model.close();
        throw new TorchScriptModelException(
            file, "cannot load as TorchScript: " + e.getMessage(), e);
      }
      try {
        if (verify) {
          vlm.verify();
        }
      } catch (RuntimeException e) {
        vlm.close();
        throw e;
      }
      LOG.info(
          "Loaded {} from {}: {} layers, {} heads, {} parameter tensors, {}",
          descriptor.name(),
          file,
          descriptor.depth(),
          descriptor.heads(),
          vlm.parameters().size(),
          trainable ? "trainable" : "frozen");
      return vlm;
    }
  }
}
