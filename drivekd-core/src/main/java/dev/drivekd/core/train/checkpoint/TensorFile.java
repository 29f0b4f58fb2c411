package dev.drivekd.core.train.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * drivekd's own tensor-map file ({@code drivekd-tensors}, version 1): a small, documented binary
 * container for {@code Map<String, NDArray>}, exact to the bit for every dtype it knows. All
 * integers are little-endian:
 *
 * <pre>
 * "DKTENSOR"                 8 bytes
 * version                    u32 (1)
 * count                      u32
 * count times:
 *   name length, name        u32, UTF-8 bytes
 *   dtype                    u8  (1 f32, 2 f64, 3 f16, 4 bf16, 5 i8, 6 u8, 7 i32, 8 i64, 9 bool)
 *   rank, dims               u8, rank x i64
 *   data length              i64 (= product(dims) x dtype size)
 *   data                     row-major, little-endian elements
 * "DKTENEND"                 8 bytes (detects truncation)
 * </pre>
 *
 * A tensor holds at most 2 GiB of data. Large tensors are written in row slices, so writing needs
 * only a bounded amount of extra memory. Every dtype reads back bit for bit except bf16, which DJL
 * 0.36's PyTorch engine cannot hold: it is read as float32 with the same values (exact widening).
 */
public final class TensorFile implements TensorCodec {

  /** The format name recorded in checkpoint manifests. */
  public static final String FORMAT = "drivekd-tensors/1";

  static final byte[] MAGIC = "DKTENSOR".getBytes(StandardCharsets.US_ASCII);
  static final byte[] END = "DKTENEND".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  private static final DataType[] CODES = {
    null,
    DataType.FLOAT32,
    DataType.FLOAT64,
    DataType.FLOAT16,
    DataType.BFLOAT16,
    DataType.INT8,
    DataType.UINT8,
    DataType.INT32,
    DataType.INT64,
    DataType.BOOLEAN
  };
  private static final long SLICE_BYTES = 64L << 20;
  private static final int MAX_NAME = 1 << 16;
  private static final int MAX_RANK = 32;

  private static final TensorFile INSTANCE = new TensorFile();

  private TensorFile() {}

  /** The codec, writing {@code student.dkt} in checkpoints. */
  public static TensorFile codec() {
    return INSTANCE;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public String fileName() {
    return "student.dkt";
  }

  /** Writes {@code tensors} to a new file (which must not exist), fsynced. */
  public static FileDigest write(Path file, Map<String, NDArray> tensors) throws IOException {
    try (ChecksummedOutput out = ChecksummedOutput.create(file)) {
      INSTANCE.write(tensors, out.stream());
      return out.finish();
    }
  }

  /** Reads a file written by {@link #write(Path, Map)}. */
  public static Map<String, NDArray> load(Path file, NDManager manager) {
    return INSTANCE.read(file, manager);
  }

  @Override
  public void write(Map<String, NDArray> tensors, OutputStream out) throws IOException {
    write(tensors, out, SLICE_BYTES);
  }

  /** Writes with tensors over {@code sliceBytes} copied to the host in row slices. */
  static void write(Map<String, NDArray> tensors, OutputStream out, long sliceBytes)
      throws IOException {
    ByteBuffer head = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    head.put(MAGIC).putInt(VERSION).putInt(tensors.size());
    out.write(head.array());
    for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
      writeTensor(e.getKey(), e.getValue(), out, sliceBytes);
    }
    out.write(END);
    out.flush();
  }

  private static void writeTensor(String name, NDArray array, OutputStream out, long sliceBytes)
      throws IOException {
    if (name == null || array == null) {
      throw new IllegalArgumentException("tensor names and arrays must not be null");
    }
    int code = code(array.getDataType());
    if (code < 0) {
      throw new IllegalArgumentException(
          "tensor '"
              + name
              + "': dtype "
              + array.getDataType()
              + " cannot be stored; supported: f32, f64, f16, bf16, i8, u8, i32, i64, bool");
    }
    Shape shape = array.getShape();
    long bytes = shape.size() * array.getDataType().getNumOfBytes();
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "tensor '" + name + "' " + shape + " holds " + bytes + " bytes, over the 2 GiB limit");
    }
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer head =
        ByteBuffer.allocate(4 + nameBytes.length + 2 + 8 * shape.dimension() + 8)
            .order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(nameBytes.length).put(nameBytes);
    head.put((byte) code).put((byte) shape.dimension());
    for (long d : shape.getShape()) {
      head.putLong(d);
    }
    head.putLong(bytes);
    out.write(head.array());
    if (bytes == 0) {
      return;
    }
    boolean onHost = array.getDevice().equals(Device.cpu());
    NDArray host = onHost ? array : array.toDevice(Device.cpu(), false);
    try {
      int elementSize = array.getDataType().getNumOfBytes();
      if (bytes <= sliceBytes || shape.dimension() == 0 || shape.get(0) <= 1) {
        writeData(host.toByteBuffer(), elementSize, out);
      } else {
        long rows = shape.get(0);
        long rowBytes = bytes / rows;
        long step = Math.max(1, sliceBytes / Math.max(1, rowBytes));
        for (long r = 0; r < rows; r += step) {
          try (NDArray slice = host.get(new NDIndex("{}:{}", r, Math.min(rows, r + step)))) {
            writeData(slice.toByteBuffer(), elementSize, out);
          }
        }
      }
    } finally {
      if (host != array) {
        host.close();
      }
    }
  }

  private static void writeData(ByteBuffer data, int elementSize, OutputStream out)
      throws IOException {
    if (data.order() != ByteOrder.LITTLE_ENDIAN && elementSize > 1) {
      data = swapped(data, elementSize);
    }
    if (data.hasArray()) {
      out.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
    } else {
      byte[] chunk = new byte[1 << 16];
      while (data.hasRemaining()) {
        int n = Math.min(chunk.length, data.remaining());
        data.get(chunk, 0, n);
        out.write(chunk, 0, n);
      }
    }
  }

  @Override
  public Map<String, NDArray> read(Path file, NDManager manager) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    boolean done = false;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      Reader in = new Reader(file, channel);
      byte[] magic = in.bytes(8, "header");
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new CheckpointException(
            file, "header", "not a drivekd tensor file (expected magic DKTENSOR)", null);
      }
      int version = in.buffer(4, "version").getInt();
      if (version != VERSION) {
        throw new CheckpointException(
            file,
            "version",
            "unsupported drivekd-tensors version "
                + version
                + " (this build reads "
                + VERSION
                + ")",
            null);
      }
      int count = in.buffer(4, "count").getInt();
      if (count < 0) {
        throw new CheckpointException(file, "count", "negative tensor count " + count, null);
      }
      for (int i = 0; i < count; i++) {
        readTensor(in, i, manager, out);
      }
      byte[] end = in.bytes(8, "end marker");
      if (!java.util.Arrays.equals(end, END) || channel.position() != channel.size()) {
        throw new CheckpointException(
            file,
            "end marker",
            "expected DKTENEND at byte "
                + (channel.position() - 8)
                + " as the last 8 bytes of a "
                + channel.size()
                + "-byte file",
            null);
      }
      done = true;
      return out;
    } catch (IOException e) {
      throw new CheckpointException(file, "cannot be read: " + e.getMessage(), e);
    } finally {
      if (!done) {
        out.values().forEach(NDArray::close);
      }
    }
  }

  private static void readTensor(Reader in, int index, NDManager manager, Map<String, NDArray> out)
      throws IOException {
    String where = "tensor " + index;
    int nameLength = in.buffer(4, where + ".nameLength").getInt();
    if (nameLength < 0 || nameLength > MAX_NAME) {
      throw in.error(where + ".nameLength", "name length " + nameLength + " out of range");
    }
    String name = new String(in.bytes(nameLength, where + ".name"), StandardCharsets.UTF_8);
    where = "tensor " + index + " ('" + name + "')";
    if (out.containsKey(name)) {
      throw in.error(where, "duplicate tensor name");
    }
    ByteBuffer kind = in.buffer(2, where + ".dtype");
    int code = kind.get() & 0xff;
    int rank = kind.get() & 0xff;
    if (code <= 0 || code >= CODES.length) {
      throw in.error(where + ".dtype", "unknown dtype code " + code);
    }
    if (rank > MAX_RANK) {
      throw in.error(where + ".rank", "rank " + rank + " over " + MAX_RANK);
    }
    DataType type = CODES[code];
    ByteBuffer dimBuffer = in.buffer(8 * rank + 8, where + ".shape");
    long[] dims = new long[rank];
    long elements = 1;
    for (int d = 0; d < rank; d++) {
      dims[d] = dimBuffer.getLong();
      if (dims[d] < 0) {
        throw in.error(where + ".shape", "negative dimension " + dims[d]);
      }
      elements = Math.multiplyExact(elements, dims[d]);
    }
    long length = dimBuffer.getLong();
    long expected = Math.multiplyExact(elements, (long) type.getNumOfBytes());
    if (length != expected || length > Integer.MAX_VALUE) {
      throw in.error(
          where + ".dataLength",
          "data length "
              + length
              + " does not match "
              + type
              + " "
              + new Shape(dims)
              + " ("
              + expected
              + " bytes, at most 2 GiB)");
    }
    ByteBuffer data = manager.allocateDirect((int) length);
    in.fill(data, where + ".data");
    data.flip();
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN && type.getNumOfBytes() > 1) {
      data = swapped(data.order(ByteOrder.LITTLE_ENDIAN), type.getNumOfBytes());
    }
    out.put(name, create(manager, data, new Shape(dims), type));
  }

  private static NDArray create(NDManager manager, ByteBuffer data, Shape shape, DataType type) {
    if (type != DataType.BFLOAT16) {
      return manager.create(data.order(ByteOrder.nativeOrder()), shape, type);
    }
    // DJL 0.36's PyTorch engine has no bfloat16 (casting to it aborts the process), so bf16 data
    // is widened to float32, which holds every bf16 value exactly.
    ByteBuffer widened = manager.allocateDirect(data.capacity() * 2);
    java.nio.ShortBuffer bits = data.order(ByteOrder.nativeOrder()).asShortBuffer();
    java.nio.IntBuffer wide = widened.order(ByteOrder.nativeOrder()).asIntBuffer();
    while (bits.hasRemaining()) {
      wide.put((bits.get() & 0xffff) << 16);
    }
    return manager.create(widened, shape, DataType.FLOAT32);
  }

  private static int code(DataType type) {
    for (int i = 1; i < CODES.length; i++) {
      if (CODES[i] == type) {
        return i;
      }
    }
    return -1;
  }

  private static ByteBuffer swapped(ByteBuffer data, int elementSize) {
    ByteBuffer out = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    byte[] element = new byte[elementSize];
    while (data.hasRemaining()) {
      data.get(element);
      for (int k = elementSize - 1; k >= 0; k--) {
        out.put(element[k]);
      }
    }
    out.flip();
    return out;
  }

  /** Sequential reads with located errors. */
  private static final class Reader {
    private final Path file;
    private final FileChannel channel;

    Reader(Path file, FileChannel channel) {
      this.file = file;
      this.channel = channel;
    }

    ByteBuffer buffer(int n, String field) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
      fill(b, field);
      b.flip();
      return b;
    }

    byte[] bytes(int n, String field) throws IOException {
      return buffer(n, field).array();
    }

    void fill(ByteBuffer b, String field) throws IOException {
      long start = channel.position();
      while (b.hasRemaining()) {
        if (channel.read(b) < 0) {
          throw error(
              field,
              "truncated: needs "
                  + b.capacity()
                  + " bytes from byte "
                  + start
                  + ", the file ends at "
                  + channel.size(),
              new EOFException());
        }
      }
    }

    CheckpointException error(String field, String problem) {
      return new CheckpointException(file, field, problem, null);
    }

    CheckpointException error(String field, String problem, Throwable cause) {
      return new CheckpointException(file, field, problem, cause);
    }
  }
}
