package dev.drivekd.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ToTensor / Normalize values and layout, batches, and errors that name the file. */
class ImagePipelineTest {

  static Path image(String name) {
    try {
      return Path.of(ImagePipelineTest.class.getResource("/images/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void normalisationIsFloat32TorchvisionArithmetic() {
    ImagePipeline p = ImagePipeline.imageNet(1);
    float[] t = p.toTensor(RgbImage.of(1, 1, 0, 128, 255));
    // numpy float32: (v / 255 - mean) / std
    assertEquals(-2.1179039478302f, t[0]);
    assertEquals(0.20518219470977783f, t[1]);
    assertEquals(2.640000104904175f, t[2]);
  }

  @Test
  void tensorIsChannelsFirst() {
    ImagePipeline p = new ImagePipeline(2, new float[] {0, 0, 0}, new float[] {1, 1, 1});
    RgbImage img = RgbImage.of(2, 2, 255, 0, 51, 0, 255, 102, 0, 0, 153, 255, 255, 204);
    float[] t = p.toTensor(img);
    assertArrayEquals(new float[] {1, 0, 0, 1, 0, 1, 0, 1, 0.2f, 0.4f, 0.6f, 0.8f}, t, 1e-7f);
    assertThrows(IllegalArgumentException.class, () -> p.toTensor(RgbImage.of(1, 1, 0, 0, 0)));
  }

  @Test
  void preprocessSquashesAndNormalises() {
    ImagePipeline p = ImagePipeline.imageNet(4);
    Path file = image("rgb_noise_13x9.png");
    RgbImage resized = PilBicubicResampler.resize(ImageDecoder.read(file), 4, 4);
    float[] expected = p.toTensor(resized);
    assertArrayEquals(expected, p.preprocess(file));
    assertEquals(3 * 4 * 4, expected.length);
    // spot value: red of pixel (0,0)
    assertEquals(((resized.get(0, 0, 0) / 255f) - 0.485f) / 0.229f, expected[0]);
  }

  @Test
  void batchIsNx3xSxSInFileOrder() {
    ImagePipeline p = ImagePipeline.imageNet(5);
    Path a = image("rgb_noise_13x9.png");
    Path b = image("grey_10x7.png");
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray one = p.preprocess(manager, a);
      assertEquals(new Shape(3, 5, 5), one.getShape());
      NDArray batch = p.batch(manager, List.of(a, b, a));
      assertEquals(new Shape(3, 3, 5, 5), batch.getShape());
      assertEquals(DataType.FLOAT32, batch.getDataType());
      float[] all = batch.toFloatArray();
      int per = 75;
      assertArrayEquals(p.preprocess(a), Arrays.copyOfRange(all, 0, per));
      assertArrayEquals(p.preprocess(b), Arrays.copyOfRange(all, per, 2 * per));
      assertArrayEquals(p.preprocess(a), Arrays.copyOfRange(all, 2 * per, 3 * per));
      assertThrows(IllegalArgumentException.class, () -> p.batch(manager, List.of()));
    }
  }

  @Test
  void errorsNameTheFile(@TempDir Path dir) throws IOException {
    ImagePipeline p = ImagePipeline.imageNet(4);
    Path missing = dir.resolve("missing.png");
    ImageLoadException e = assertThrows(ImageLoadException.class, () -> p.preprocess(missing));
    assertEquals(missing, e.file());
    assertTrue(e.getMessage().startsWith(missing + ": image file not found"), e.getMessage());

    Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
    e = assertThrows(ImageLoadException.class, () -> p.preprocess(text));
    assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("not a recognised image format"), e.getMessage());

    Path folder = Files.createDirectory(dir.resolve("folder.jpg"));
    e = assertThrows(ImageLoadException.class, () -> p.preprocess(folder));
    assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());

    byte[] png = Files.readAllBytes(image("rgb_smooth_17x11.png"));
    Path truncated = Files.write(dir.resolve("truncated.png"), Arrays.copyOf(png, 60));
    e = assertThrows(ImageLoadException.class, () -> p.preprocess(truncated));
    assertEquals(truncated, e.file());
  }
}
