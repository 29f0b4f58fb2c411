package dev.drivekd.core.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Writes a small driving dataset in the reference JSON format (method.md 6.1): one {@code <image>}
 * question per record with its answer and capability, and one seeded random-noise PNG camera image
 * per record beside the file. For tests, benchmarks and examples that need real files but no real
 * camera data.
 */
public final class SyntheticDrivingData {

  /** The name of the dataset file inside the folder. */
  public static final String FILE = "data.json";

  private SyntheticDrivingData() {}

  /**
   * One record.
   *
   * @param questionType the capability's name, as {@code question_type}
   * @param question the question (an {@code <image>} placeholder is put before it)
   * @param answer the answer
   */
  public record Record(String questionType, String question, String answer) {}

  /**
   * Writes {@code records} into {@code dir} (created if needed) as {@value #FILE} plus {@code
   * cam<i>.png} images of {@code imageSide} x {@code imageSide} pixels.
   *
   * @return the dataset file
   */
  public static Path write(Path dir, List<Record> records, int imageSide, long seed) {
    try {
      Files.createDirectories(dir);
      ObjectMapper json = new ObjectMapper();
      ArrayNode root = json.createArrayNode();
      Random random = new Random(seed);
      for (int i = 0; i < records.size(); i++) {
        Record r = records.get(i);
        String image = "cam" + i + ".png";
        ImageIO.write(noise(imageSide, random), "png", dir.resolve(image).toFile());
        ObjectNode item = root.addObject();
        ArrayNode messages = item.putArray("messages");
        messages.addObject().put("role", "user").put("content", "<image>" + r.question());
        messages.addObject().put("role", "assistant").put("content", r.answer());
        item.putArray("images").add(image);
        item.put("question_type", r.questionType());
      }
      Path file = dir.resolve(FILE);
      json.writeValue(file.toFile(), root);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the synthetic dataset into " + dir, e);
    }
  }

  /**
   * {@link #write}s {@code records} into {@code dir} and reads them back with {@code dir} as the
   * data root.
   */
  public static DrivingDataset create(Path dir, List<Record> records, int imageSide, long seed) {
    Path file = write(dir, records, imageSide, seed);
    return DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
  }

  /** A {@code side} x {@code side} RGB image of uniform random pixels. */
  public static BufferedImage noise(int side, Random random) {
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    return image;
  }
}
