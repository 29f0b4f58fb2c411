package dev.drivekd.teachers.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.teachers.torchscript.TorchScriptVlm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SHA-256 of a model's weights, which a teacher-target cache records as the teacher's identity:
 * {@code "drivekd-weights/1\n"}, then per parameter in the model's fixed order its name, a newline,
 * its data type and shape, a newline, its byte count (u64, big-endian) and its raw values (the
 * engine's byte order, little-endian on every supported platform). The same weights give the same
 * fingerprint wherever they were loaded from; any changed value, shape, dtype or name changes it.
 * Large tensors are hashed in slices of rows, so the host holds at most 64 MiB of one tensor at a
 * time; a precompute run fingerprints each distinct teacher once.
 */
public final class WeightsFingerprint {

  static final long SLICE_BYTES = 1L << 26;

  private WeightsFingerprint() {}

  /**
   * The fingerprint of a native InternVL model ({@link InternVlModel#namedParameters()} order) or a
   * TorchScript model (module order).
   *
   * @throws IllegalArgumentException for another model type: give its fingerprint yourself (for
   *     example the SHA-256 of its weight files)
   */
  public static String of(VisionLanguageModel model) {
    Map<String, NDArray> named = new LinkedHashMap<>();
    if (model instanceof InternVlModel internVl) {
      internVl.namedParameters().forEach((name, p) -> named.put(name, p.getArray()));
    } else if (model instanceof TorchScriptVlm script) {
      for (Parameter p : script.parameters()) {
        named.put(p.getName(), p.getArray());
      }
    } else {
      throw new IllegalArgumentException(
          "cannot list the weights of "
              + model.card().name()
              + " ("
              + model.getClass().getName()
              + "); give its weights fingerprint explicitly");
    }
    return of(named);
  }

  /** The fingerprint of named arrays, in the map's order. */
  public static String of(Map<String, NDArray> named) {
    return of(named, SLICE_BYTES);
  }

  /** As {@link #of(Map)}, hashing tensors larger than {@code sliceBytes} in row slices. */
  static String of(Map<String, NDArray> named, long sliceBytes) {
    MessageDigest digest = DataFingerprint.newSha256();
    digest.update("drivekd-weights/1\n".getBytes(StandardCharsets.US_ASCII));
    for (Map.Entry<String, NDArray> e : named.entrySet()) {
      NDArray array = e.getValue();
      String head = e.getKey() + "\n" + array.getDataType() + " " + array.getShape() + "\n";
      digest.update(head.getBytes(StandardCharsets.UTF_8));
      long bytes = array.size() * array.getDataType().getNumOfBytes();
      digest.update(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(bytes).array());
      for (NDIndex slice : slices(array, sliceBytes)) {
        if (slice == null) {
          digest.update(array.toByteArray());
        } else {
          try (NDArray part = array.get(slice)) {
            digest.update(part.toByteArray());
          }
        }
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * Row ranges of at most {@code sliceBytes} bytes (one row at least), or null for a small tensor.
   */
  private static List<NDIndex> slices(NDArray array, long sliceBytes) {
    long bytes = array.size() * array.getDataType().getNumOfBytes();
    List<NDIndex> out = new ArrayList<>();
    if (bytes <= sliceBytes || array.getShape().dimension() == 0) {
      out.add(null);
      return out;
    }
    long rows = array.getShape().get(0);
    long rowBytes = Math.max(1, bytes / rows);
    long step = Math.max(1, sliceBytes / rowBytes);
    for (long start = 0; start < rows; start += step) {
      out.add(new NDIndex("{}:{}", start, Math.min(rows, start + step)));
    }
    return out;
  }
}
