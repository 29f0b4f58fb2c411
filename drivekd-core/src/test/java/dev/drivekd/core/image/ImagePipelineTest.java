package dev.drivekd.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
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

  /**
   * The whole pipeline against Pillow: PIL's {@code resize((4, 4), BICUBIC)} pixels of the test
   * image (pil_parity.json, written by Pillow), then ToTensor and Normalize by hand in float32.
   */
  @Test
  void preprocessIsPillowsResizeThenNormalised() throws IOException {
    ImagePipeline p = ImagePipeline.imageNet(4);
    JsonNode pil;
    try (InputStream in = getClass().getResourceAsStream("/images/pil_parity.json")) {
      pil = new ObjectMapper().readTree(in).get("images").get("rgb_noise_13x9.png");
    }
    JsonNode pixels = pil.get("resized").get("4"); // HWC, 0..255
    assertEquals(4 * 4 * 3, pixels.size());
    float[] expected = new float[3 * 4 * 4];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 16; i++) {
        float v = pixels.get(i * 3 + c).asInt() / 255f;
        expected[c * 16 + i] = (v - ImagePipeline.IMAGENET_MEAN[c]) / ImagePipeline.IMAGENET_STD[c];
      }
    }
    assertArrayEquals(expected, p.preprocess(image("rgb_noise_13x9.png")));
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
