package dev.drivekd.core.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TensorFile}: exact bytes of the documented layout, every dtype bit for bit, errors. */
class TensorFileTest {

  @TempDir Path dir;
  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  /** Every dtype the format knows, with awkward values: NaN payloads, -0, rank 0, empty. */
  static Map<String, NDArray> everyDtype(NDManager manager, long seed) {
    Random random = new Random(seed);
    Map<String, NDArray> t = new LinkedHashMap<>();
    float[] f = new float[24];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) random.nextGaussian();
    }
    f[0] = -0.0f;
    f[1] = Float.intBitsToFloat(0x7fc01234); // a NaN with a payload
    f[2] = Float.POSITIVE_INFINITY;
    f[3] = Float.MIN_VALUE;
    t.put("layer.0.weight", manager.create(f, new Shape(2, 3, 4)));
    double[] d = random.doubles(5).toArray();
    d[0] = Double.longBitsToDouble(0x7ff8000000000123L);
    t.put("double", manager.create(d, new Shape(5)));
    t.put(
        "half",
        manager
            .create(new float[] {1.5f, -2.25f, 65504f, 6.1e-5f})
            .toType(DataType.FLOAT16, false));
    t.put("ids", manager.create(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}));
    t.put("ints", manager.create(new int[] {Integer.MIN_VALUE, 7, Integer.MAX_VALUE}));
    t.put(
        "i8",
        manager.create(ByteBuffer.wrap(new byte[] {-128, 0, 127}), new Shape(3), DataType.INT8));
    t.put(
        "u8",
        manager.create(
            ByteBuffer.wrap(new byte[] {0, (byte) 200, (byte) 255}), new Shape(3), DataType.UINT8));
    t.put("mask", manager.create(new boolean[] {true, false, true, true}, new Shape(2, 2)));
    t.put("scalar", manager.create(3.25f));
    t.put("empty", manager.create(new Shape(0, 3), DataType.FLOAT32));
    t.put("unicode ∆ name", manager.create(new float[] {42f}));
    return t;
  }

  static void assertSameTensors(Map<String, NDArray> expected, Map<String, NDArray> actual) {
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
    for (Map.Entry<String, NDArray> e : expected.entrySet()) {
      NDArray a = actual.get(e.getKey());
      assertEquals(e.getValue().getDataType(), a.getDataType(), e.getKey());
      assertEquals(e.getValue().getShape(), a.getShape(), e.getKey());
      assertArrayEquals(bytes(e.getValue()), bytes(a), e.getKey());
    }
  }

  static byte[] bytes(NDArray array) {
    ByteBuffer b = array.toByteBuffer();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void everyDtypeRoundTripsBitForBit() throws IOException {
    Map<String, NDArray> tensors = everyDtype(manager, 1);
    Path file = dir.resolve("w.dkt");
    FileDigest digest = TensorFile.write(file, tensors);
    assertEquals(Files.size(file), digest.size());
    assertEquals(FileDigest.of(file), digest);
    Map<String, NDArray> back = TensorFile.load(file, manager);
    assertSameTensors(tensors, back);
    // The payload NaN keeps its bits.
    assertEquals(0x7fc01234, Float.floatToRawIntBits(back.get("layer.0.weight").toFloatArray()[1]));
  }

  @Test
  void layoutIsExactlyAsDocumented() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TensorFile.codec().write(Map.of("w", manager.create(new float[] {1f, -2f})), out);
    String expected =
        "444b54454e534f52" // DKTENSOR
            + "01000000" // version 1
            + "01000000" // one tensor
            + "01000000" // name length 1
            + "77" // "w"
            + "01" // dtype f32
            + "01" // rank 1
            + "0200000000000000" // dim 2
            + "0800000000000000" // 8 data bytes
            + "0000803f" // 1.0f
            + "000000c0" // -2.0f
            + "444b54454e454e44"; // DKTENEND
    assertEquals(expected, HexFormat.of().formatHex(out.toByteArray()));
  }

  @Test
  void bf16IsReadAsExactFloat32() throws IOException {
    // DJL 0.36's PyTorch engine cannot make a bf16 array, so the file is written by hand.
    short[] bits = {0x3fc0, (short) 0xc040, 0x0000, (short) 0x8000, 0x7f80, 0x3e20};
    float[] expected = {1.5f, -3f, 0f, -0f, Float.POSITIVE_INFINITY, 0.15625f};
    ByteBuffer file = ByteBuffer.allocate(8 + 4 + 4 + 4 + 1 + 2 + 16 + 8 + 12 + 8);
    file.order(ByteOrder.LITTLE_ENDIAN).put(TensorFile.MAGIC).putInt(1).putInt(1);
    file.putInt(1).put((byte) 'b').put((byte) 4).put((byte) 2).putLong(2).putLong(3).putLong(12);
    for (short b : bits) {
      file.putShort(b);
    }
    file.put(TensorFile.END);
    Path path = dir.resolve("bf16.dkt");
    Files.write(path, file.array());
    NDArray back = TensorFile.load(path, manager).get("b");
    assertEquals(DataType.FLOAT32, back.getDataType());
    assertEquals(new Shape(2, 3), back.getShape());
    float[] values = back.toFloatArray();
    for (int i = 0; i < expected.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(values[i]), "" + i);
    }
  }

  @Test
  void rowSlicedWritingGivesTheSameBytes() throws IOException {
    Random random = new Random(3);
    float[] values = new float[10 * 7];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat();
    }
    Map<String, NDArray> t = Map.of("big", manager.create(values, new Shape(10, 7)));
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    ByteArrayOutputStream sliced = new ByteArrayOutputStream();
    TensorFile.write(t, whole, Long.MAX_VALUE);
    TensorFile.write(t, sliced, 64); // 2 rows of 28 bytes per slice: 5 slices
    assertArrayEquals(whole.toByteArray(), sliced.toByteArray());
    long before = manager.getManagedArrays().size();
    TensorFile.write(t, new ByteArrayOutputStream(), 64);
    assertEquals(before, manager.getManagedArrays().size(), "slices are closed");
  }

  @Test
  void truncatedFileNamesTensorAndField() throws IOException {
    Path file = dir.resolve("t.dkt");
    TensorFile.write(file, Map.of("w", manager.create(new float[] {1f, 2f, 3f})));
    byte[] all = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(all, all.length - 12));
    long before = manager.getManagedArrays().size();
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> TensorFile.load(file, manager));
    assertEquals(file, e.file());
    assertEquals("tensor 0 ('w').data", e.field().orElseThrow());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertEquals(before, manager.getManagedArrays().size(), "no array is left behind");
  }

  @Test
  void badHeaderVersionDtypeAndTrailerAreNamed() throws IOException {
    Path file = dir.resolve("t.dkt");
    TensorFile.write(file, Map.of("w", manager.create(new float[] {1f})));
    byte[] good = Files.readAllBytes(file);

    byte[] magic = good.clone();
    magic[0] = 'X';
    assertMessage(file, magic, "header", "not a drivekd tensor file");

    byte[] version = good.clone();
    ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
    assertMessage(file, version, "version", "unsupported drivekd-tensors version 2");

    byte[] dtype = good.clone();
    dtype[8 + 4 + 4 + 4 + 1] = 42; // after magic, version, count, name length, "w"
    assertMessage(file, dtype, "tensor 0 ('w').dtype", "unknown dtype code 42");

    byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
    assertMessage(file, trailing, "end marker", "last 8 bytes");
  }

  private void assertMessage(Path file, byte[] content, String field, String text)
      throws IOException {
    Files.write(file, content);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> TensorFile.load(file, manager));
    assertEquals(field, e.field().orElseThrow(), e.getMessage());
    assertTrue(e.getMessage().contains(text), e.getMessage());
  }

  @Test
  void nullArraysAreRefusedOnWrite() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> {
              Map<String, NDArray> t = new LinkedHashMap<>();
              t.put("x", null);
              TensorFile.codec().write(t, new ByteArrayOutputStream());
            });
    assertTrue(e.getMessage().contains("must not be null"), e.getMessage());
  }
}
