package dev.drivekd.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageReference;
import dev.drivekd.core.engine.HostData;
import dev.drivekd.core.image.ImageLoadException;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.prompt.ContentBlock;
import dev.drivekd.core.prompt.ImageBlock;
import dev.drivekd.core.prompt.PromptBuilder;
import dev.drivekd.core.prompt.TextBlock;
import dev.drivekd.core.text.Tokenizer;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Builds a {@link VlmBatch} from prompts as content blocks, exactly as the reference assembles its
 * input (method.md 1.1):
 *
 * <ul>
 *   <li>each text block is tokenised on its own, with no special token; its labels are its ids when
 *       the block's loss mask is true, else {@code -100}; an empty block gives no position;
 *   <li>each image block gives {@code tokensPerImage} positions holding the tokenizer's image token
 *       id, label {@code -100}, {@code isImage = true};
 *   <li>sequences are right-padded with the tokenizer's pad id (label {@code -100}) to the longest
 *       one; the {@link TokenLayout} comes from the labels;
 *   <li>pixel values are {@code [N, 3, S, S]}, sample 0's images in sequence order, then sample
 *       1's, and so on; {@code null} when the batch has no image.
 * </ul>
 *
 * <p>An optional maximum length applies per sequence, with a {@link Truncation} policy: fail (the
 * default), or drop positions from the left of the prompt, never splitting an image's positions and
 * never dropping a supervised position.
 */
public final class BatchEncoder {

  /** What happens to a sequence longer than the maximum length. */
  public enum Truncation {
    /** Throw, naming the sample and its length (the default). */
    FAIL,
    /**
     * Drop the fewest leading positions that bring the sequence within the maximum, extended to the
     * end of an image whose positions the cut would split (the image is dropped whole, with its
     * pixels). The dropped prefix must not reach a supervised position, otherwise this throws too:
     * the answer is never cut. The kept sequence starts mid-prompt (the user marker may be gone),
     * but the end of the prompt, the part closest to the answer or to generation, is kept.
     */
    DROP_PROMPT_START
  }

  /** Which prompt of a sample to encode. */
  public enum PromptMode {
    /** User turn (not supervised) then the assistant answer (supervised). */
    TRAINING,
    /** User turn then the assistant start, nothing supervised (generation). */
    OPEN_ENDED
  }

  private final Tokenizer tokenizer;
  private final ImagePipeline images;
  private final int tokensPerImage;
  private final int maxLength;
  private final Truncation truncation;

  private BatchEncoder(Builder b) {
    this.tokenizer = b.tokenizer;
    this.images = b.images;
    this.tokensPerImage = b.tokensPerImage;
    this.maxLength = b.maxLength;
    this.truncation = b.truncation;
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The tokenizer. */
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The image pipeline. */
  public ImagePipeline imagePipeline() {
    return images;
  }

  /** Vision positions per image. */
  public int tokensPerImage() {
    return tokensPerImage;
  }

  /**
   * Tokenises one prompt without reading images, truncating it if the policy says so.
   *
   * @param blocks the prompt's blocks in order
   * @throws IllegalArgumentException if it is too long and cannot be truncated
   */
  public EncodedPrompt tokenize(List<ContentBlock> blocks) {
    return tokenize(blocks, "prompt");
  }

  /**
   * Encodes prompts whose image paths are relative to {@code dataRoot} (paths may not leave it).
   *
   * @param manager where the batch's arrays are created
   * @param prompts one block list per sample, at least one
   * @param dataRoot the folder image paths are relative to
   * @throws ImageLoadException naming the file when an image cannot be read
   * @throws IllegalArgumentException when a prompt is too long or a path escapes the root
   */
  public VlmBatch encode(NDManager manager, List<List<ContentBlock>> prompts, Path dataRoot) {
    Objects.requireNonNull(dataRoot, "dataRoot");
    Path root = dataRoot.toAbsolutePath().normalize();
    List<EncodedPrompt> encoded = new ArrayList<>(prompts.size());
    List<Path> files = new ArrayList<>();
    for (int b = 0; b < prompts.size(); b++) {
      EncodedPrompt prompt = tokenize(prompts.get(b), "prompt " + b);
      encoded.add(prompt);
      for (String raw : prompt.imagePaths()) {
        files.add(resolve(root, raw, b));
      }
    }
    return assemble(manager, encoded, files.isEmpty() ? null : pixels(manager, files));
  }

  /**
   * Encodes dataset samples; images come from each sample's resolved paths. Failures name the
   * dataset file, the record and, for an image, the field it came from.
   *
   * @param manager where the batch's arrays are created
   * @param samples at least one
   * @param mode training (answer supervised) or open-ended
   * @throws DatasetException when an image cannot be read or a sample is too long
   */
  public VlmBatch encodeSamples(NDManager manager, List<DrivingSample> samples, PromptMode mode) {
    List<EncodedPrompt> encoded = new ArrayList<>(samples.size());
    List<Path> files = new ArrayList<>();
    List<ImageReference> refs = new ArrayList<>();
    List<DrivingSample> owners = new ArrayList<>();
    for (DrivingSample sample : samples) {
      List<ContentBlock> blocks =
          mode == PromptMode.TRAINING ? sample.trainingPrompt() : sample.openEndedPrompt();
      EncodedPrompt prompt;
      try {
        prompt = tokenize(blocks, "prompt");
      } catch (IllegalArgumentException e) {
        throw new DatasetException(
            sample.sourceFile(), sample.recordIndex(), null, e.getMessage(), e);
      }
      encoded.add(prompt);
      List<String> paths = PromptBuilder.imagePaths(blocks);
      if (paths.size() != sample.images().size()) {
        throw new IllegalStateException(
            "sample "
                + sample.recordIndex()
                + " has "
                + sample.images().size()
                + " image references but its prompt has "
                + paths.size()
                + " image blocks");
      }
      for (int k = prompt.droppedImages(); k < paths.size(); k++) {
        ImageReference ref = sample.images().get(k);
        if (!ref.rawPath().equals(paths.get(k))) {
          throw new IllegalStateException(
              "sample "
                  + sample.recordIndex()
                  + ": image block "
                  + k
                  + " is \""
                  + paths.get(k)
                  + "\" but its reference is \""
                  + ref.rawPath()
                  + "\"");
        }
        files.add(ref.resolvedPath());
        refs.add(ref);
        owners.add(sample);
      }
    }
    NDArray pixels = null;
    if (!files.isEmpty()) {
      int per = 3 * images.imageSize() * images.imageSize();
      float[] data = new float[Math.multiplyExact(files.size(), per)];
      for (int i = 0; i < files.size(); i++) {
        try {
          float[] one = images.preprocess(files.get(i));
          System.arraycopy(one, 0, data, i * per, per);
        } catch (ImageLoadException e) {
          DrivingSample s = owners.get(i);
          throw new DatasetException(
              s.sourceFile(), s.recordIndex(), refs.get(i).field(), e.getMessage(), e);
        }
      }
      pixels =
          HostData.owned(
              manager.create(
                  data, new Shape(files.size(), 3, images.imageSize(), images.imageSize())));
    }
    return assemble(manager, encoded, pixels);
  }

  /** Pads encoded prompts into a batch with the given pixel values. */
  VlmBatch assemble(NDManager manager, List<EncodedPrompt> prompts, NDArray pixels) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one prompt");
    }
    int batch = prompts.size();
    int longest = 0;
    for (EncodedPrompt p : prompts) {
      longest = Math.max(longest, p.length());
    }
    long[] ids = new long[batch * longest];
    long[][] labels = new long[batch][longest];
    boolean[][] isImage = new boolean[batch][longest];
    int[] lengths = new int[batch];
    Arrays.fill(ids, tokenizer.padId());
    for (int b = 0; b < batch; b++) {
      EncodedPrompt p = prompts.get(b);
      System.arraycopy(p.ids(), 0, ids, b * longest, p.length());
      Arrays.fill(labels[b], TokenLayout.IGNORE_LABEL);
      System.arraycopy(p.labels(), 0, labels[b], 0, p.length());
      System.arraycopy(p.isImage(), 0, isImage[b], 0, p.length());
      lengths[b] = p.length();
    }
    TokenLayout layout = TokenLayout.fromLabels(isImage, labels, lengths);
    NDArray inputIds = HostData.owned(manager.create(ids, new Shape(batch, longest)));
    return new VlmBatch(inputIds, pixels, layout);
  }

  private EncodedPrompt tokenize(List<ContentBlock> blocks, String what) {
    int[] offsets = new int[blocks.size() + 1];
    List<long[]> pieces = new ArrayList<>(blocks.size());
    for (int i = 0; i < blocks.size(); i++) {
      ContentBlock block = blocks.get(i);
      long[] blockIds;
      if (block instanceof TextBlock text) {
        blockIds = tokenizer.encode(text.text());
      } else {
        blockIds = new long[tokensPerImage];
        Arrays.fill(blockIds, tokenizer.imageTokenId());
      }
      pieces.add(blockIds);
      offsets[i + 1] = Math.addExact(offsets[i], blockIds.length);
    }
    int total = offsets[blocks.size()];
    long[] ids = new long[total];
    long[] labels = new long[total];
    boolean[] isImage = new boolean[total];
    List<String> paths = new ArrayList<>();
    List<Integer> imageStarts = new ArrayList<>();
    int firstSupervised = total;
    for (int i = 0; i < blocks.size(); i++) {
      ContentBlock block = blocks.get(i);
      long[] blockIds = pieces.get(i);
      int start = offsets[i];
      System.arraycopy(blockIds, 0, ids, start, blockIds.length);
      boolean image = block instanceof ImageBlock;
      if (image) {
        paths.add(((ImageBlock) block).path());
        imageStarts.add(start);
      }
      for (int k = 0; k < blockIds.length; k++) {
        isImage[start + k] = image;
        labels[start + k] = !image && block.lossMask() ? blockIds[k] : TokenLayout.IGNORE_LABEL;
      }
      if (!image && block.lossMask() && blockIds.length > 0) {
        firstSupervised = Math.min(firstSupervised, start);
      }
    }
    if (maxLength <= 0 || total <= maxLength) {
      return new EncodedPrompt(ids, labels, isImage, paths, 0, 0);
    }
    if (truncation == Truncation.FAIL) {
      throw new IllegalArgumentException(
          what
              + " has "
              + total
              + " positions, more than the maximum length "
              + maxLength
              + " (truncation "
              + truncation
              + ")");
    }
    int cut = total - maxLength;
    int droppedImages = 0;
    for (int start : imageStarts) {
      if (start < cut) {
        droppedImages++;
        cut = Math.max(cut, start + tokensPerImage);
      }
    }
    if (cut > firstSupervised) {
      throw new IllegalArgumentException(
          what
              + " has "
              + total
              + " positions; keeping "
              + maxLength
              + " would cut into the supervised answer (it starts at position "
              + firstSupervised
              + ")");
    }
    return new EncodedPrompt(
        Arrays.copyOfRange(ids, cut, total),
        Arrays.copyOfRange(labels, cut, total),
        Arrays.copyOfRange(isImage, cut, total),
        paths.subList(droppedImages, paths.size()),
        cut,
        droppedImages);
  }

  private NDArray pixels(NDManager manager, List<Path> files) {
    return images.batch(manager, files);
  }

  private static Path resolve(Path root, String raw, int prompt) {
    Path resolved;
    try {
      resolved = root.resolve(raw).normalize();
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(
          "prompt " + prompt + ": invalid image path \"" + raw + "\": " + e.getReason(), e);
    }
    if (!resolved.startsWith(root) || resolved.equals(root)) {
      throw new IllegalArgumentException(
          "prompt "
              + prompt
              + ": image path \""
              + raw
              + "\" does not name a file inside the data root "
              + root);
    }
    return resolved;
  }

  /** Builds a {@link BatchEncoder}. */
  public static final class Builder {
    private Tokenizer tokenizer;
    private ImagePipeline images;
    private int tokensPerImage = -1;
    private int maxLength;
    private Truncation truncation = Truncation.FAIL;

    Builder() {}

    /** Sets the tokenizer (required). */
    public Builder setTokenizer(Tokenizer tokenizer) {
      this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
      return this;
    }

    /** Sets the image pipeline (required; {@link ImagePipeline#imageNet} for InternVL). */
    public Builder setImagePipeline(ImagePipeline images) {
      this.images = Objects.requireNonNull(images, "images");
      return this;
    }

    /** Sets the vision positions per image (required; 256 for InternVL3 at 448 px). */
    public Builder setTokensPerImage(int tokensPerImage) {
      if (tokensPerImage < 1) {
        throw new IllegalArgumentException("tokensPerImage must be >= 1, got " + tokensPerImage);
      }
      this.tokensPerImage = tokensPerImage;
      return this;
    }

    /** Sets an {@link ImagePipeline#imageNet} pipeline of side {@code size}. */
    public Builder setImageSize(int size) {
      return setImagePipeline(ImagePipeline.imageNet(size));
    }

    /** Takes {@code tokensPerImage} and the image size from a model card (ImageNet mean/std). */
    public Builder setModel(ModelCard card) {
      setTokensPerImage(card.tokensPerImage());
      return setImagePipeline(ImagePipeline.imageNet(card.imageSize()));
    }

    /** Sets the maximum sequence length and what happens beyond it; 0 means no maximum. */
    public Builder optMaxLength(int maxLength, Truncation truncation) {
      if (maxLength < 0) {
        throw new IllegalArgumentException("maxLength must be >= 0, got " + maxLength);
      }
      this.maxLength = maxLength;
      this.truncation = Objects.requireNonNull(truncation, "truncation");
      return this;
    }

    /** Builds the encoder. */
    public BatchEncoder build() {
      if (tokenizer == null || images == null || tokensPerImage < 1) {
        throw new IllegalStateException(
            "tokenizer, image pipeline and tokensPerImage are required");
      }
      return new BatchEncoder(this);
    }
  }
}
