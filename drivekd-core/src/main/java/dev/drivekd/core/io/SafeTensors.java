package dev.drivekd.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format of Hugging Face: an 8-byte little-endian header length
 * {@code n}, {@code n} bytes of JSON {@code {name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}}, then the raw little-endian tensor bytes, offsets relative to
 * the end of the header. Reading validates the header the way the reference implementation does:
 * known dtypes, byte sizes that match the shapes, and offsets that tile the data section with no
 * hole and no overlap. Errors name the file and the tensor.
 */
public final class SafeTensors {

  /** The header key that holds the free-form string metadata. */
  public static final String METADATA_KEY = "__metadata__";

  /** The largest header the reference implementation accepts (100 MB). */
  static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /**
   * The element types of the format that drivekd reads. DJL's PyTorch engine (0.36) has no bfloat16
   * and no int16 array (asking for one aborts the process), so BF16 is widened to F32 and I16 to
   * I32 on reading; both widenings are exact.
   */
  public enum StoredType {
    /** IEEE float64. */
    F64(8, DataType.FLOAT64),
    /** IEEE float32. */
    F32(4, DataType.FLOAT32),
    /** IEEE float16. */
    F16(2, DataType.FLOAT16),
    /** bfloat16, read as float32. */
    BF16(2, DataType.FLOAT32),
    /** int64. */
    I64(8, DataType.INT64),
    /** int32. */
    I32(4, DataType.INT32),
    /** int16, read as int32. */
    I16(2, DataType.INT32),
    /** int8. */
    I8(1, DataType.INT8),
    /** uint8. */
    U8(1, DataType.UINT8),
    /** bool, one byte per element. */
    BOOL(1, DataType.BOOLEAN);

    private final int bytes;
    private final DataType loadedAs;

    StoredType(int bytes, DataType loadedAs) {
      this.bytes = bytes;
      this.loadedAs = loadedAs;
    }

    /** Bytes per element in the file. */
    public int bytes() {
      return bytes;
    }

    /** The DJL type of the array that {@link SafeTensors#read} returns. */
    public DataType loadedAs() {
      return loadedAs;
    }

    /** The stored type of a DJL type, for writing. */
    static StoredType of(DataType type) {
      switch (type) {
        case FLOAT64:
          return F64;
        case FLOAT32:
          return F32;
        case FLOAT16:
          return F16;
        case INT64:
          return I64;
        case INT32:
          return I32;
        case INT8:
          return I8;
        case UINT8:
          return U8;
        case BOOLEAN:
          return BOOL;
        default:
          throw new IllegalArgumentException(
              "no safetensors dtype is written for " + type + "; supported: " + WRITABLE);
      }
    }

    private static StoredType parse(String name) {
      for (StoredType type : values()) {
        if (type.name().equals(name)) {
          return type;
        }
      }
      return null;
    }
  }

  private static final String WRITABLE = "float64/32/16, int64/32/8, uint8, boolean";

  private SafeTensors() {}

  /**
   * The tensors of a file with its metadata.
   *
   * @param tensors name to tensor, in the order of their bytes in the file
   * @param metadata the {@code __metadata__} map (empty when the file has none)
   */
  public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {

    /** Keeps the maps unmodifiable. */
    public Contents {
      tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
  }

  /**
   * One header entry: what a tensor is and where its bytes lie.
   *
   * @param name the tensor's name
   * @param dataType its element type in the file
   * @param shape its shape
   * @param begin first byte, relative to the data section
   * @param end one past the last byte, relative to the data section
   */
  public record TensorInfo(String name, StoredType dataType, Shape shape, long begin, long end) {}

  /**
   * The parsed and validated header of a file.
   *
   * @param tensors name to entry, in the order of their bytes in the file
   * @param metadata the {@code __metadata__} map
   * @param dataStart absolute file offset of the data section ({@code 8 + n})
   */
  public record Header(
      Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {

    /** Keeps the maps unmodifiable. */
    public Header {
      tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
  }

  /**
   * Writes {@code tensors} and {@code metadata} to {@code file}, atomically: the bytes go to a
   * temporary file in the same directory, which then replaces {@code file}. Tensors are stored in
   * name order; the arrays are read, not changed.
   *
   * @throws SafeTensorsException naming the tensor that cannot be stored (an unsupported dtype or
   *     an empty name)
   */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
      throws IOException {
    requireLittleEndianHost(file);
    Map<String, NDArray> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject(METADATA_KEY);
      for (Map.Entry<String, String> entry : new TreeMap<>(metadata).entrySet()) {
        if (entry.getValue() == null) {
          throw new SafeTensorsException(
              file, null, "metadata value of \"" + entry.getKey() + "\" is null");
        }
        meta.put(entry.getKey(), entry.getValue());
      }
    }
    long offset = 0;
    for (Map.Entry<String, NDArray> entry : sorted.entrySet()) {
      String name = entry.getKey();
      NDArray array = entry.getValue();
      if (name.isEmpty() || METADATA_KEY.equals(name)) {
        throw new SafeTensorsException(file, name, "is not a usable tensor name");
      }
      String dtype;
      try {
        dtype = StoredType.of(array.getDataType()).name();
      } catch (IllegalArgumentException e) {
        throw new SafeTensorsException(file, name, e.getMessage());
      }
      long bytes = array.size() * array.getDataType().getNumOfBytes();
      ObjectNode node = header.putObject(name);
      node.put("dtype", dtype);
      ArrayNode shape = node.putArray("shape");
      for (long dim : array.getShape().getShape()) {
        shape.add(dim);
      }
      ArrayNode offsets = node.putArray("data_offsets");
      offsets.add(offset);
      offsets.add(offset + bytes);
      offset += bytes;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    prefix.putLong(padded);
    prefix.put(json);
    while (prefix.hasRemaining()) {
      prefix.put((byte) ' ');
    }
    prefix.flip();

    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, absolute.getFileName().toString(), ".tmp");
    boolean done = false;
    try {
      try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        writeFully(out, prefix);
        for (Map.Entry<String, NDArray> entry : sorted.entrySet()) {
          ByteBuffer data = entry.getValue().toByteBuffer();
          long expected = entry.getValue().size() * entry.getValue().getDataType().getNumOfBytes();
          if (data.remaining() != expected) {
            throw new SafeTensorsException(
                file,
                entry.getKey(),
                "engine returned " + data.remaining() + " bytes, expected " + expected);
          }
          writeFully(out, data);
        }
        out.force(true);
      }
      try {
        Files.move(
            temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      done = true;
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /**
   * Reads and validates the header of {@code file} without loading tensor data.
   *
   * @throws SafeTensorsException naming the file and, where it applies, the tensor
   */
  public static Header readHeader(Path file) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(file, in);
    }
  }

  /**
   * Reads every tensor of {@code file} into {@code manager}, in the stored dtype except that BF16
   * arrives as float32 and I16 as int32 (see {@link StoredType}).
   *
   * @throws SafeTensorsException when the header or the data is malformed, naming the file and the
   *     tensor
   */
  public static Contents read(Path file, NDManager manager) throws IOException {
    requireLittleEndianHost(file);
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      Header header = readHeader(file, in);
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      boolean complete = false;
      try {
        for (TensorInfo info : header.tensors().values()) {
          tensors.put(info.name(), readTensor(file, in, header.dataStart(), info, manager));
        }
        complete = true;
      } finally {
        if (!complete) {
          tensors.values().forEach(NDArray::close);
        }
      }
      return new Contents(tensors, header.metadata());
    }
  }

  private static NDArray readTensor(
      Path file, FileChannel in, long dataStart, TensorInfo info, NDManager manager)
      throws IOException {
    long bytes = info.end() - info.begin();
    DataType loaded = info.dataType().loadedAs();
    if (info.shape().size() == 0) {
      return manager.zeros(info.shape(), loaded);
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new SafeTensorsException(
          file, info.name(), "has " + bytes + " bytes; tensors over 2 GiB are not supported");
    }
    ByteBuffer buffer = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    long position = dataStart + info.begin();
    while (buffer.hasRemaining()) {
      int read = in.read(buffer, position);
      if (read < 0) {
        throw new SafeTensorsException(
            file, info.name(), "file ends inside the tensor's bytes (truncated file)");
      }
      position += read;
    }
    buffer.flip();
    if (info.dataType() == StoredType.BF16) {
      return manager.create(widenBfloat16(buffer), info.shape());
    }
    if (info.dataType() == StoredType.I16) {
      int[] wide = new int[buffer.remaining() / 2];
      for (int i = 0; i < wide.length; i++) {
        wide[i] = buffer.getShort();
      }
      return manager.create(wide, info.shape());
    }
    return manager.create(buffer, info.shape(), loaded);
  }

  /** bfloat16 is the upper half of a float32: widening shifts the bits, exactly. */
  private static float[] widenBfloat16(ByteBuffer buffer) {
    float[] out = new float[buffer.remaining() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = Float.intBitsToFloat((buffer.getShort() & 0xFFFF) << 16);
    }
    return out;
  }

  private static Header readHeader(Path file, FileChannel in) throws IOException {
    long size = in.size();
    if (size < 8) {
      throw new SafeTensorsException(
          file, null, "is " + size + " bytes long, too short for the 8-byte header length");
    }
    ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, in, lengthBytes, 0);
    long headerLength = lengthBytes.flip().getLong();
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
      throw new SafeTensorsException(
          file,
          null,
          "header length "
              + Long.toUnsignedString(headerLength)
              + " is invalid (file size "
              + size
              + ", limit "
              + MAX_HEADER_BYTES
              + ")");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
    readFully(file, in, headerBytes, 8);
    String text = new String(headerBytes.array(), StandardCharsets.UTF_8);
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new SafeTensorsException(
          file, null, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new SafeTensorsException(file, null, "header must be a JSON object");
    }
    long dataStart = 8 + headerLength;
    long dataSize = size - dataStart;
    Map<String, String> metadata = new LinkedHashMap<>();
    List<TensorInfo> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (METADATA_KEY.equals(field.getKey())) {
        readMetadata(file, field.getValue(), metadata);
      } else {
        entries.add(entry(file, field.getKey(), field.getValue(), dataSize));
      }
    }
    entries.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long expected = 0;
    for (TensorInfo info : entries) {
      if (info.begin() != expected) {
        throw new SafeTensorsException(
            file,
            info.name(),
            "data_offsets ["
                + info.begin()
                + ", "
                + info.end()
                + "] "
                + (info.begin() < expected ? "overlap" : "leave a hole before")
                + " the previous tensor's bytes (expected begin "
                + expected
                + ")");
      }
      expected = info.end();
    }
    if (expected != dataSize) {
      throw new SafeTensorsException(
          file,
          null,
          "tensors cover "
              + expected
              + " bytes but the data section has "
              + dataSize
              + " (trailing bytes or truncated file)");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (TensorInfo info : entries) {
      tensors.put(info.name(), info);
    }
    return new Header(tensors, metadata, dataStart);
  }

  private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

  private static TensorInfo entry(Path file, String name, JsonNode node, long dataSize)
      throws SafeTensorsException {
    if (!node.isObject()) {
      throw new SafeTensorsException(file, name, "entry must be an object, found " + node);
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!ENTRY_FIELDS.contains(field)) {
        throw new SafeTensorsException(
            file, name, "unknown field \"" + field + "\" (expected " + ENTRY_FIELDS + ")");
      }
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new SafeTensorsException(file, name, "dtype must be a string");
    }
    StoredType type = StoredType.parse(dtypeNode.asText());
    if (type == null) {
      throw new SafeTensorsException(
          file,
          name,
          "dtype \""
              + dtypeNode.asText()
              + "\" is not supported; supported: "
              + java.util.Arrays.toString(StoredType.values()));
    }
    JsonNode shapeNode = node.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw new SafeTensorsException(file, name, "shape must be an array of integers");
    }
    long[] dims = new long[shapeNode.size()];
    long elements = 1;
    for (int i = 0; i < dims.length; i++) {
      JsonNode dim = shapeNode.get(i);
      if (!dim.isIntegralNumber() || dim.asLong() < 0 || !dim.canConvertToLong()) {
        throw new SafeTensorsException(
            file, name, "shape " + shapeNode + " must hold non-negative integers");
      }
      dims[i] = dim.asLong();
      try {
        elements = Math.multiplyExact(elements, dims[i]);
      } catch (ArithmeticException e) {
        throw new SafeTensorsException(file, name, "shape " + shapeNode + " overflows");
      }
    }
    JsonNode offsets = node.get("data_offsets");
    if (offsets == null
        || !offsets.isArray()
        || offsets.size() != 2
        || !offsets.get(0).isIntegralNumber()
        || !offsets.get(1).isIntegralNumber()
        || !offsets.get(0).canConvertToLong()
        || !offsets.get(1).canConvertToLong()) {
      throw new SafeTensorsException(
          file, name, "data_offsets must be [begin, end] integers, found " + offsets);
    }
    long begin = offsets.get(0).asLong();
    long end = offsets.get(1).asLong();
    if (begin < 0 || end < begin || end > dataSize) {
      throw new SafeTensorsException(
          file,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + "] lie outside the data section of "
              + dataSize
              + " bytes");
    }
    long expectedBytes;
    try {
      expectedBytes = Math.multiplyExact(elements, type.bytes());
    } catch (ArithmeticException e) {
      throw new SafeTensorsException(file, name, "shape " + shapeNode + " overflows");
    }
    if (end - begin != expectedBytes) {
      throw new SafeTensorsException(
          file,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + "] span "
              + (end - begin)
              + " bytes, but "
              + dtypeNode.asText()
              + " "
              + shapeNode
              + " needs "
              + expectedBytes);
    }
    return new TensorInfo(name, type, new Shape(dims), begin, end);
  }

  private static void readMetadata(Path file, JsonNode node, Map<String, String> out)
      throws SafeTensorsException {
    if (!node.isObject()) {
      throw new SafeTensorsException(file, null, "__metadata__ must be an object of strings");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (!field.getValue().isTextual()) {
        throw new SafeTensorsException(
            file,
            null,
            "__metadata__ value of \""
                + field.getKey()
                + "\" must be a string, found "
                + field.getValue());
      }
      out.put(field.getKey(), field.getValue().asText());
    }
  }

  private static void readFully(Path file, FileChannel in, ByteBuffer buffer, long position)
      throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int read = in.read(buffer, at);
      if (read < 0) {
        throw new SafeTensorsException(file, null, "file ends inside the header");
      }
      at += read;
    }
  }

  private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  private static void requireLittleEndianHost(Path file) throws SafeTensorsException {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new SafeTensorsException(
          file, null, "safetensors I/O needs a little-endian host (tensors are little-endian)");
    }
  }
}
