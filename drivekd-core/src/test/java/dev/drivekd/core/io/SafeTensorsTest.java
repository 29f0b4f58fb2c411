package dev.drivekd.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors codec: byte layout, round trips of every dtype, and located header errors. */
class SafeTensorsTest {

  private static NDManager manager;

  @TempDir Path dir;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** A file built byte by byte, as the Python package writes it: 8-byte length, JSON, data. */
  private static byte[] file(String header, byte[] data) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out =
        ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length).put(json).put(data);
    return out.array();
  }

  private static byte[] floats(float... values) {
    ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      out.putFloat(v);
    }
    return out.array();
  }

  @Test
  void readsAHandBuiltFile() throws IOException {
    String header =
        "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"b\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[12,20]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
    ByteBuffer data = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    data.put(floats(1.5f, -2f, 0.25f)).putLong(-7L);
    Path path = dir.resolve("hand.safetensors");
    Files.write(path, file(header, data.array()));
    try (NDManager sub = manager.newSubManager()) {
      SafeTensors.Contents contents = SafeTensors.read(path, sub);
      assertEquals(List.of("a", "b"), List.copyOf(contents.tensors().keySet()));
      assertEquals(Map.of("format", "pt"), contents.metadata());
      NDArray a = contents.tensors().get("a");
      assertEquals(DataType.FLOAT32, a.getDataType());
      assertArrayEquals(new float[] {1.5f, -2f, 0.25f}, a.toFloatArray());
      NDArray b = contents.tensors().get("b");
      assertEquals(new Shape(), b.getShape());
      assertEquals(-7L, b.getLong());
    }
  }

  @Test
  void writesTheDocumentedByteLayout() throws IOException {
    Path path = dir.resolve("layout.safetensors");
    try (NDManager sub = manager.newSubManager()) {
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("z", sub.create(new float[] {3f, 4f}));
      tensors.put("y", sub.create(new long[] {9L}, new Shape(1, 1)));
      SafeTensors.write(path, tensors, Map.of("k", "v"));
    }
    byte[] bytes = Files.readAllBytes(path);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long n = buf.getLong();
    assertEquals(0, n % 8, "header padded to 8 bytes");
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertEquals(
        "{\"__metadata__\":{\"k\":\"v\"},"
            + "\"y\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[0,8]},"
            + "\"z\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
        header.strip());
    assertEquals(8 + n + 16, bytes.length);
    buf.position((int) (8 + n));
    assertEquals(9L, buf.getLong());
    assertEquals(3f, buf.getFloat());
    assertEquals(4f, buf.getFloat());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(
          List.of("layout.safetensors"),
          files.map(p -> p.getFileName().toString()).collect(Collectors.toList()),
          "no temporary file is left behind");
    }
  }

  @Test
  void roundTripsEveryDtypeBitForBit() throws IOException {
    Path path = dir.resolve("all.safetensors");
    try (NDManager sub = manager.newSubManager()) {
      float[] values = {0f, -0f, 1.25f, -3.5e-3f, 65504f, Float.MIN_NORMAL, 7.1e20f, -1f};
      NDArray f32 = sub.create(values, new Shape(2, 4));
      Map<String, NDArray> tensors = new LinkedHashMap<>();
      tensors.put("f32", f32);
      tensors.put("f64", sub.create(new double[] {Math.PI, -Math.E}));
      tensors.put("f16", f32.toType(DataType.FLOAT16, true));
      tensors.put("i64", sub.create(new long[] {Long.MIN_VALUE, 0, Long.MAX_VALUE}));
      tensors.put("i32", sub.create(new int[] {-5, 6}));
      tensors.put("i8", sub.create(new byte[] {-128, 127}));
      tensors.put(
          "u8",
          sub.create(ByteBuffer.wrap(new byte[] {0, (byte) 255}), new Shape(2), DataType.UINT8));
      tensors.put("bool", sub.create(new boolean[] {true, false, true}));
      tensors.put("scalar", sub.create(2.5f));
      tensors.put("empty", sub.zeros(new Shape(0, 3)));
      SafeTensors.write(path, tensors, Map.of());
      SafeTensors.Contents back = SafeTensors.read(path, sub);
      assertTrue(back.metadata().isEmpty());
      assertEquals(tensors.keySet(), back.tensors().keySet());
      for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
        NDArray expected = entry.getValue();
        NDArray actual = back.tensors().get(entry.getKey());
        assertEquals(expected.getDataType(), actual.getDataType(), entry.getKey());
        assertEquals(expected.getShape(), actual.getShape(), entry.getKey());
        assertArrayEquals(
            expected.toByteArray(), actual.toByteArray(), entry.getKey() + " bytes differ");
      }
      SafeTensors.Header header = SafeTensors.readHeader(path);
      assertEquals(SafeTensors.StoredType.F16, header.tensors().get("f16").dataType());
      assertEquals(new Shape(2, 4), header.tensors().get("f16").shape());
    }
  }

  @Test
  void widensBfloat16AndInt16Exactly() throws IOException {
    String header =
        "{\"h\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
            + "\"s\":{\"dtype\":\"I16\",\"shape\":[3],\"data_offsets\":[8,14]}}";
    ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
    // bfloat16 bit patterns: 1.5, -2, +inf, 2^-126 (the upper 16 bits of the float32)
    data.putShort((short) 0x3FC0).putShort((short) 0xC000).putShort((short) 0x7F80);
    data.putShort((short) 0x0080);
    data.putShort((short) -32768).putShort((short) 32767).putShort((short) -1);
    Path path = dir.resolve("bf16.safetensors");
    Files.write(path, file(header, data.array()));
    try (NDManager sub = manager.newSubManager()) {
      SafeTensors.Contents contents = SafeTensors.read(path, sub);
      NDArray h = contents.tensors().get("h");
      assertEquals(DataType.FLOAT32, h.getDataType());
      assertEquals(new Shape(2, 2), h.getShape());
      assertArrayEquals(
          new float[] {1.5f, -2f, Float.POSITIVE_INFINITY, Float.MIN_NORMAL}, h.toFloatArray());
      NDArray s = contents.tensors().get("s");
      assertEquals(DataType.INT32, s.getDataType());
      assertArrayEquals(new int[] {-32768, 32767, -1}, s.toIntArray());
    }
    assertEquals(
        SafeTensors.StoredType.BF16, SafeTensors.readHeader(path).tensors().get("h").dataType());
  }

  @Test
  void overwritesAnExistingFile() throws IOException {
    Path path = dir.resolve("w.safetensors");
    try (NDManager sub = manager.newSubManager()) {
      SafeTensors.write(path, Map.of("a", sub.create(new float[] {1f})), Map.of());
      SafeTensors.write(path, Map.of("b", sub.create(new float[] {2f, 3f})), Map.of());
      SafeTensors.Contents back = SafeTensors.read(path, sub);
      assertEquals(List.of("b"), List.copyOf(back.tensors().keySet()));
      assertArrayEquals(new float[] {2f, 3f}, back.tensors().get("b").toFloatArray());
    }
  }

  @Test
  void rejectsAnUnsupportedDtypeOnWriteNamingTheTensor() {
    Path path = dir.resolve("bad.safetensors");
    try (NDManager sub = manager.newSubManager()) {
      NDArray strings = sub.create(new String[] {"x"});
      SafeTensorsException e =
          assertThrows(
              SafeTensorsException.class,
              () -> SafeTensors.write(path, Map.of("text", strings), Map.of()));
      assertEquals("text", e.tensor());
      assertFalse(Files.exists(path));
    }
  }

  private SafeTensorsException readError(String header, byte[] data) throws IOException {
    Path path = dir.resolve("broken.safetensors");
    Files.write(path, file(header, data));
    try (NDManager sub = manager.newSubManager()) {
      SafeTensorsException e =
          assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path, sub));
      assertTrue(e.getMessage().startsWith(path.toString()), e.getMessage());
      assertEquals(0, sub.getManagedArrays().size(), "nothing half-read stays alive");
      return e;
    }
  }

  @Test
  void headerErrorsNameTheFileAndTheTensor() throws IOException {
    byte[] eight = floats(1f, 2f);
    SafeTensorsException e;

    e = readError("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", eight);
    assertEquals("w", e.tensor());
    assertTrue(e.getMessage().contains("needs 12"), e.getMessage());

    e = readError("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}}", eight);
    assertEquals("w", e.tensor());
    assertTrue(e.getMessage().contains("not supported"), e.getMessage());

    e =
        readError(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
            eight);
    assertEquals("b", e.tensor());
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());

    e = readError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight);
    assertEquals("a", e.tensor());
    assertTrue(e.getMessage().contains("hole"), e.getMessage());

    e = readError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", eight);
    assertTrue(e.getMessage().contains("trailing"), e.getMessage());

    e = readError("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", eight);
    assertEquals("a", e.tensor());
    assertTrue(e.getMessage().contains("outside"), e.getMessage());

    e = readError("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", eight);
    assertEquals("a", e.tensor());

    e = readError("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", eight);
    assertEquals("a", e.tensor());
    assertTrue(e.getMessage().contains("data_offsets"), e.getMessage());

    e =
        readError(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", eight);
    assertTrue(e.getMessage().contains("unknown field"), e.getMessage());

    e =
        readError(
            "{\"__metadata__\":{\"n\":3},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            eight);
    assertTrue(e.getMessage().contains("must be a string"), e.getMessage());

    e =
        readError(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            eight);
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

    e = readError("[1, 2]", eight);
    assertTrue(e.getMessage().contains("JSON object"), e.getMessage());
  }

  @Test
  void rejectsBadLengthsAndTruncation() throws IOException {
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertTrue(
        assertThrows(SafeTensorsException.class, () -> SafeTensors.readHeader(tiny))
            .getMessage()
            .contains("too short"));

    Path huge = dir.resolve("huge.safetensors");
    ByteBuffer lengthOnly = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    lengthOnly.putLong(1L << 40);
    Files.write(huge, lengthOnly.array());
    assertTrue(
        assertThrows(SafeTensorsException.class, () -> SafeTensors.readHeader(huge))
            .getMessage()
            .contains("header length"));

    Path good = dir.resolve("good.safetensors");
    try (NDManager sub = manager.newSubManager()) {
      SafeTensors.write(good, Map.of("a", sub.create(new float[] {1f, 2f, 3f})), Map.of());
    }
    byte[] bytes = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.safetensors");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    assertThrows(SafeTensorsException.class, () -> SafeTensors.readHeader(cut));
  }
}
