package dev.drivekd.core.train.optimizer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checkpoint state of a {@link PyTorchAdamW}: the update count and, per parameter name, its step
 * and moments (PyTorch's {@code state[p]}). It writes to and reads from a stream in a small binary
 * format (a header, then DJL's {@link NDList#encode()} per parameter), exact to the bit.
 *
 * @param updateCount the optimizer's update count (optimizer steps taken)
 * @param parameters step and moments per parameter name
 */
public record AdamWState(long updateCount, Map<String, ParameterState> parameters) {
  private static final String MAGIC = "drivekd-adamw";
  private static final int VERSION = 1;

  /** Ordered defensive copy. */
  public AdamWState {
    parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
  }

  /**
   * One parameter's state.
   *
   * @param step completed updates of this parameter
   * @param expAvg first moment {@code m}
   * @param expAvgSq second moment {@code v}
   */
  public record ParameterState(long step, NDArray expAvg, NDArray expAvgSq) {}

  /** Writes the state; the stream is flushed, not closed. */
  public void write(OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeUTF(MAGIC);
    data.writeInt(VERSION);
    data.writeLong(updateCount);
    data.writeInt(parameters.size());
    for (Map.Entry<String, ParameterState> e : parameters.entrySet()) {
      data.writeUTF(e.getKey());
      data.writeLong(e.getValue().step());
      byte[] bytes = new NDList(e.getValue().expAvg(), e.getValue().expAvgSq()).encode();
      data.writeInt(bytes.length);
      data.write(bytes);
    }
    data.flush();
  }

  /** Reads a state written by {@link #write}, creating the moments in {@code manager}. */
  public static AdamWState read(InputStream in, NDManager manager) throws IOException {
    DataInputStream data = new DataInputStream(in);
    String magic = data.readUTF();
    if (!MAGIC.equals(magic)) {
      throw new IOException("not a drivekd AdamW state (header '" + magic + "')");
    }
    int version = data.readInt();
    if (version != VERSION) {
      throw new IOException(
          "unsupported AdamW state version " + version + " (this build reads " + VERSION + ")");
    }
    long count = data.readLong();
    int n = data.readInt();
    Map<String, ParameterState> params = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String name = data.readUTF();
      long step = data.readLong();
      byte[] bytes = new byte[data.readInt()];
      data.readFully(bytes);
      NDList list = NDList.decode(manager, bytes);
      if (list.size() != 2) {
        throw new IOException("AdamW state of '" + name + "' holds " + list.size() + " arrays");
      }
      params.put(name, new ParameterState(step, list.get(0), list.get(1)));
    }
    return new AdamWState(count, params);
  }
}
