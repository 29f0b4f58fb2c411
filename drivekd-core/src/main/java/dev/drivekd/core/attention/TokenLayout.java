package dev.drivekd.core.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.drivekd.core.engine.HostData;
import java.util.Arrays;
import java.util.List;

/**
 * Immutable token layout of a batch of {@code B} sequences right-padded to length {@code L}: per
 * sample its length, which positions are vision tokens, which are supervised answer tokens, and
 * (optionally) the label ids. Text is {@code valid && !image}; padding is neither text nor image.
 * It produces the masks of method.md 1.3 on a given {@link NDManager}, for example the
 * text-to-vision mask {@code m[b,i,j] = text(b,i) && image(b,j)}.
 */
public final class TokenLayout {

  /** The label of a position that is not supervised (HF / PyTorch ignore index). */
  public static final long IGNORE_LABEL = -100L;

  private final int paddedLength;
  private final int[] lengths;
  private final boolean[][] image;
  private final boolean[][] supervised;
  private final long[][] labels;

  private TokenLayout(
      int paddedLength, int[] lengths, boolean[][] image, boolean[][] supervised, long[][] labels) {
    this.paddedLength = paddedLength;
    this.lengths = lengths;
    this.image = image;
    this.supervised = supervised;
    this.labels = labels;
  }

  /**
   * Builds a layout from per-position flags.
   *
   * @param isImage {@code [B][L]}: vision token positions (false in the padding)
   * @param supervised {@code [B][L]}: supervised answer positions (false in the padding)
   * @param lengths per sample number of valid positions, {@code 0 <= length <= L}
   */
  public static TokenLayout of(boolean[][] isImage, boolean[][] supervised, int[] lengths) {
    int batch = checkBatch(isImage, lengths);
    int length = isImage[0].length;
    boolean[][] img = copy(isImage, length, "isImage");
    boolean[][] sup = copyRows(supervised, batch, length, "supervised");
    int[] lens = lengths.clone();
    check(img, sup, lens, length);
    return new TokenLayout(length, lens, img, sup, null);
  }

  /**
   * Builds a layout from label ids: a position is supervised iff its label is not {@link
   * #IGNORE_LABEL}. Padding positions must carry {@link #IGNORE_LABEL}.
   *
   * @param isImage {@code [B][L]}
   * @param labels {@code [B][L]} label ids, {@code -100} where not supervised
   * @param lengths per sample number of valid positions
   */
  public static TokenLayout fromLabels(boolean[][] isImage, long[][] labels, int[] lengths) {
    int batch = checkBatch(isImage, lengths);
    int length = isImage[0].length;
    if (labels == null || labels.length != batch) {
      throw new IllegalArgumentException("labels must have one row per sample (" + batch + ")");
    }
    boolean[][] img = copy(isImage, length, "isImage");
    long[][] ids = new long[batch][];
    boolean[][] sup = new boolean[batch][length];
    for (int b = 0; b < batch; b++) {
      if (labels[b] == null || labels[b].length != length) {
        throw new IllegalArgumentException(
            "labels row " + b + " must have the padded length " + length);
      }
      ids[b] = labels[b].clone();
      for (int i = 0; i < length; i++) {
        sup[b][i] = ids[b][i] != IGNORE_LABEL;
      }
    }
    int[] lens = lengths.clone();
    check(img, sup, lens, length);
    return new TokenLayout(length, lens, img, sup, ids);
  }

  /**
   * Builds a layout from per-sample segment lists, padded on the right to the longest sample.
   *
   * @param samples one ordered segment list per sample
   */
  public static TokenLayout fromSegments(List<List<TokenSegment>> samples) {
    int longest = 0;
    for (List<TokenSegment> sample : samples) {
      longest = Math.max(longest, sampleLength(sample));
    }
    return fromSegments(samples, longest);
  }

  /**
   * Builds a layout from per-sample segment lists, padded on the right to {@code paddedLength}.
   *
   * @param samples one ordered segment list per sample
   * @param paddedLength the padded length {@code L}, at least the longest sample
   */
  public static TokenLayout fromSegments(List<List<TokenSegment>> samples, int paddedLength) {
    if (samples == null || samples.isEmpty()) {
      throw new IllegalArgumentException("a layout needs at least one sample");
    }
    int batch = samples.size();
    boolean[][] img = new boolean[batch][paddedLength];
    boolean[][] sup = new boolean[batch][paddedLength];
    int[] lens = new int[batch];
    for (int b = 0; b < batch; b++) {
      int length = sampleLength(samples.get(b));
      if (length > paddedLength) {
        throw new IllegalArgumentException(
            "sample "
                + b
                + " has "
                + length
                + " tokens, more than the padded length "
                + paddedLength);
      }
      int pos = 0;
      for (TokenSegment segment : samples.get(b)) {
        for (int k = 0; k < segment.length(); k++, pos++) {
          img[b][pos] = segment.kind() == TokenSegment.Kind.IMAGE;
          sup[b][pos] = segment.supervised();
        }
      }
      lens[b] = length;
    }
    check(img, sup, lens, paddedLength);
    return new TokenLayout(paddedLength, lens, img, sup, null);
  }

  /**
   * A batch whose vision positions are unknown: every position is valid text. This is the
   * reference's {@code is_image = None} case, where text-to-vision losses are attached zeros.
   */
  public static TokenLayout withoutVisionPositions(int batch, int length) {
    int[] lens = new int[batch];
    Arrays.fill(lens, length);
    return of(new boolean[batch][length], new boolean[batch][length], lens);
  }

  /** Number of sequences {@code B}. */
  public int batchSize() {
    return lengths.length;
  }

  /** Padded length {@code L}. */
  public int paddedLength() {
    return paddedLength;
  }

  /** Number of valid (non-padding) positions of sample {@code b}. */
  public int length(int b) {
    return lengths[b];
  }

  /** Whether position {@code i} of sample {@code b} is a real token (not padding). */
  public boolean isValid(int b, int i) {
    return i < lengths[b];
  }

  /** Whether position {@code i} of sample {@code b} is a vision token. */
  public boolean isImage(int b, int i) {
    return image[b][i];
  }

  /** Whether position {@code i} of sample {@code b} is a text token ({@code valid && !image}). */
  public boolean isText(int b, int i) {
    return isValid(b, i) && !image[b][i];
  }

  /** Whether position {@code i} of sample {@code b} is a supervised answer token. */
  public boolean isSupervised(int b, int i) {
    return supervised[b][i];
  }

  /** Whether this layout carries label ids (built with {@link #fromLabels}). */
  public boolean hasLabels() {
    return labels != null;
  }

  /** Number of text-to-vision pairs of sample {@code b}: (#text tokens) x (#image tokens). */
  public long textToVisionPairCount(int b) {
    long text = 0;
    long img = 0;
    for (int i = 0; i < lengths[b]; i++) {
      if (image[b][i]) {
        img++;
      } else {
        text++;
      }
    }
    return text * img;
  }

  /** The layout of sample {@code b} alone, without padding ({@code B = 1, L = length(b)}). */
  public TokenLayout sample(int b) {
    int length = lengths[b];
    boolean[][] img = {Arrays.copyOf(image[b], length)};
    boolean[][] sup = {Arrays.copyOf(supervised[b], length)};
    long[][] ids = labels == null ? null : new long[][] {Arrays.copyOf(labels[b], length)};
    return new TokenLayout(length, new int[] {length}, img, sup, ids);
  }

  /** Text-to-vision mask {@code [B,L,L]} (boolean): {@code m[b,i,j] = text(b,i) && image(b,j)}. */
  public NDArray textToVisionMask(NDManager manager) {
    return pairMask(manager, false, false);
  }

  /**
   * Causally valid text-to-vision mask {@code [B,L,L]} (boolean): the text-to-vision mask with
   * {@code j <= i} added, so text tokens before an image are not counted (a drivekd option).
   */
  public NDArray causalTextToVisionMask(NDManager manager) {
    return pairMask(manager, false, true);
  }

  /** Valid-pair mask {@code [B,L,L]} (boolean): {@code valid(b,i) && valid(b,j)}. */
  public NDArray validPairMask(NDManager manager) {
    return pairMask(manager, true, false);
  }

  /** Valid mask {@code [B,L]} (boolean): {@code i < length(b)}. */
  public NDArray validMask(NDManager manager) {
    boolean[] data = new boolean[lengths.length * paddedLength];
    for (int b = 0; b < lengths.length; b++) {
      for (int i = 0; i < lengths[b]; i++) {
        data[b * paddedLength + i] = true;
      }
    }
    return HostData.owned(manager.create(data, new Shape(lengths.length, paddedLength)));
  }

  /** Image mask {@code [B,L]} (boolean): true at vision-token positions. */
  public NDArray imageMask(NDManager manager) {
    boolean[] data = new boolean[lengths.length * paddedLength];
    for (int b = 0; b < lengths.length; b++) {
      System.arraycopy(image[b], 0, data, b * paddedLength, paddedLength);
    }
    return HostData.owned(manager.create(data, new Shape(lengths.length, paddedLength)));
  }

  /** Whether every sample fills the padded length: no padding, every pair of positions valid. */
  public boolean isUnpadded() {
    for (int length : lengths) {
      if (length != paddedLength) {
        return false;
      }
    }
    return true;
  }

  /** Number of vision positions of sample {@code b}. */
  public int imageTokenCount(int b) {
    int count = 0;
    for (int i = 0; i < lengths[b]; i++) {
      count += image[b][i] ? 1 : 0;
    }
    return count;
  }

  /** Supervised mask {@code [B,L]} (boolean): the positions whose label is not ignored. */
  public NDArray supervisedMask(NDManager manager) {
    boolean[] data = new boolean[lengths.length * paddedLength];
    for (int b = 0; b < lengths.length; b++) {
      System.arraycopy(supervised[b], 0, data, b * paddedLength, paddedLength);
    }
    return HostData.owned(manager.create(data, new Shape(lengths.length, paddedLength)));
  }

  /**
   * Prediction mask {@code [B,L]} (boolean): position {@code t} is set iff label {@code t+1} is
   * supervised, i.e. the positions that next-token CE trains (method.md 2.3).
   */
  public NDArray predictionMask(NDManager manager) {
    boolean[] data = new boolean[lengths.length * paddedLength];
    for (int b = 0; b < lengths.length; b++) {
      for (int t = 0; t + 1 < paddedLength; t++) {
        data[b * paddedLength + t] = supervised[b][t + 1];
      }
    }
    return HostData.owned(manager.create(data, new Shape(lengths.length, paddedLength)));
  }

  /** Label ids {@code [B,L]} (int64), {@code -100} where not supervised. */
  public NDArray labels(NDManager manager) {
    long[] data = new long[lengths.length * paddedLength];
    for (int b = 0; b < lengths.length; b++) {
      for (int i = 0; i < paddedLength; i++) {
        if (labels == null && supervised[b][i]) {
          throw new IllegalStateException(
              "this layout has supervised positions but no label ids; build it with fromLabels");
        }
        data[b * paddedLength + i] = labels == null ? IGNORE_LABEL : labels[b][i];
      }
    }
    return HostData.owned(manager.create(data, new Shape(lengths.length, paddedLength)));
  }

  /**
   * A pair mask {@code [B, L, L]} built on the manager's device from the {@code [B, L]} row and
   * column masks (the host does {@code O(B L)} work, never {@code O(B L^2)}): {@code rows[b,i] &&
   * cols[b,j]}, and {@code j <= i} when causal.
   */
  private NDArray pairMask(NDManager manager, boolean allValid, boolean causal) {
    int batch = lengths.length;
    int n = paddedLength;
    boolean[] rows = new boolean[batch * n];
    boolean[] cols = new boolean[batch * n];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < lengths[b]; i++) {
        rows[b * n + i] = allValid || !image[b][i];
        cols[b * n + i] = allValid || image[b][i];
      }
    }
    try (NDManager scratch = manager.newSubManager()) {
      NDArray r = HostData.owned(scratch.create(rows, new Shape(batch, n, 1)));
      NDArray c = HostData.owned(scratch.create(cols, new Shape(batch, 1, n)));
      NDArray mask = r.logicalAnd(c);
      if (causal) {
        NDArray position = scratch.arange(0, n, 1, ai.djl.ndarray.types.DataType.INT64);
        NDArray lower = position.reshape(1, 1, n).lte(position.reshape(1, n, 1));
        mask = mask.logicalAnd(lower);
      }
      mask.attach(manager);
      return mask;
    }
  }

  /**
   * The mask of {@code region} as {@code type} on {@code manager}, built once per manager and
   * reused: every attention loss of a step (every layer group, every task) over the same region
   * shares one array. It belongs to {@code manager} (a step's sub-manager) and leaves any open
   * {@code NDScope}, so that a loss's scope does not close it; callers must not close it.
   */
  public synchronized NDArray regionMask(
      PairRegion region, NDManager manager, ai.djl.ndarray.types.DataType type) {
    String key = region.name() + "/" + type;
    CachedMask cached = masks.get(key);
    if (cached != null && cached.manager() == manager && !cached.mask().isReleased()) {
      return cached.mask();
    }
    NDArray mask;
    try (NDManager scratch = manager.newSubManager()) {
      NDArray built = region.mask(this, scratch);
      mask = built.getDataType() == type ? built : built.toType(type, false);
      mask.attach(manager);
    }
    ai.djl.ndarray.NDScope.unregister(mask);
    masks.put(key, new CachedMask(manager, mask));
    return mask;
  }

  private record CachedMask(NDManager manager, NDArray mask) {}

  private final java.util.Map<String, CachedMask> masks = new java.util.HashMap<>();

  private static int sampleLength(List<TokenSegment> sample) {
    if (sample == null) {
      throw new IllegalArgumentException("a sample's segment list must not be null");
    }
    int length = 0;
    for (TokenSegment segment : sample) {
      length = Math.addExact(length, segment.length());
    }
    return length;
  }

  private static int checkBatch(boolean[][] isImage, int[] lengths) {
    if (isImage == null || isImage.length == 0) {
      throw new IllegalArgumentException("a layout needs at least one sample");
    }
    if (lengths == null || lengths.length != isImage.length) {
      throw new IllegalArgumentException(
          "lengths must have one entry per sample ("
              + isImage.length
              + "), got "
              + (lengths == null ? "null" : lengths.length));
    }
    return isImage.length;
  }

  private static boolean[][] copy(boolean[][] rows, int length, String what) {
    return copyRows(rows, rows.length, length, what);
  }

  private static boolean[][] copyRows(boolean[][] rows, int batch, int length, String what) {
    if (rows == null || rows.length != batch) {
      throw new IllegalArgumentException(what + " must have one row per sample (" + batch + ")");
    }
    boolean[][] out = new boolean[batch][];
    for (int b = 0; b < batch; b++) {
      if (rows[b] == null || rows[b].length != length) {
        throw new IllegalArgumentException(
            what + " row " + b + " must have the padded length " + length);
      }
      out[b] = rows[b].clone();
    }
    return out;
  }

  private static void check(boolean[][] img, boolean[][] sup, int[] lens, int length) {
    for (int b = 0; b < lens.length; b++) {
      if (lens[b] < 0 || lens[b] > length) {
        throw new IllegalArgumentException(
            "sample " + b + " has length " + lens[b] + ", expected 0.." + length);
      }
      for (int i = 0; i < length; i++) {
        if (i >= lens[b] && (img[b][i] || sup[b][i])) {
          throw new IllegalArgumentException(
              "sample "
                  + b
                  + ", position "
                  + i
                  + ": marked as "
                  + (img[b][i] ? "image" : "supervised")
                  + " but lies in the padding (length "
                  + lens[b]
                  + ")");
        }
        if (img[b][i] && sup[b][i]) {
          throw new IllegalArgumentException(
              "sample " + b + ", position " + i + ": an image token cannot be supervised");
        }
      }
    }
  }
}
