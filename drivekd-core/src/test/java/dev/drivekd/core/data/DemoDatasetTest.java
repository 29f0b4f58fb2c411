package dev.drivekd.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.testing.ReferenceFiles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The reference's seven published demo samples, whose images are not distributed. */
class DemoDatasetTest {

  private static final Path DEMO = ReferenceFiles.dataFile("drivekd-reference-demo.json");

  @Test
  void everySampleParsesTextOnly() {
    DrivingDataset dataset =
        DrivingDatasetReader.builder()
            .optImageCheckPolicy(ImageCheckPolicy.TEXT_ONLY)
            .build()
            .read(DEMO);
    assertEquals(7, dataset.size());
    assertEquals(dataset.size(), dataset.counts().values().stream().mapToInt(i -> i).sum());
    assertEquals(0, dataset.unknownCount());
    for (DrivingSample sample : dataset.samples()) {
      assertTrue(!sample.images().isEmpty(), "every demo sample has images");
      for (ImageReference image : sample.images()) {
        assertTrue(image.resolvedPath().startsWith(DEMO.getParent().toAbsolutePath().normalize()));
      }
      assertEquals(sample.images().size(), sample.imagePaths().size());
    }
    // Six-camera samples: six placeholders, six images, nothing dropped or left over.
    assertEquals(6, dataset.get(1).images().size());
    assertEquals("images[5]", dataset.get(1).images().get(5).field());
    assertTrue(dataset.warnings().isEmpty(), dataset.warnings().toString());
  }

  @Test
  void missingImagesAreReportedWithFileRecordAndField() {
    DrivingDatasetReader reader = DrivingDatasetReader.builder().build();
    DatasetException e = assertThrows(DatasetException.class, () -> reader.read(DEMO));
    assertEquals(DEMO, e.file());
    assertEquals(0, e.recordIndex().getAsInt());
    assertEquals("images[0]", e.field().orElseThrow());
    assertTrue(e.getMessage().contains("drivekd-reference-demo.json: record 0"), e.getMessage());
    assertTrue(e.getMessage().contains("field \"images[0]\""), e.getMessage());
    assertTrue(e.getMessage().contains("image file not found"), e.getMessage());
    assertTrue(e.getMessage().contains("9afb9daf-81ca742d.jpg"), e.getMessage());
  }
}
