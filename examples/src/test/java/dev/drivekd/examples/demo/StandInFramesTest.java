package dev.drivekd.examples.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class StandInFramesTest {

  @Test
  void readsTheObjectMarkersOfAQuestion() {
    List<StandInFrames.Marker> m =
        StandInFrames.markers(
            "<image>What is <c1,CAM_FRONT,0.4678,0.6772> doing next to <c2,CAM_BACK,0.1,0.25>?");
    assertEquals(
        List.of(
            new StandInFrames.Marker("CAM_FRONT", 0.4678, 0.6772),
            new StandInFrames.Marker("CAM_BACK", 0.1, 0.25)),
        m);
    assertEquals(List.of(), StandInFrames.markers("<image>No object here."));
  }

  @Test
  void namesTheCameraOfNuScenesPathsAndTheFrontOtherwise() {
    assertEquals(
        "CAM_FRONT_LEFT",
        StandInFrames.camera(
            ".../nuscenes/samples/CAM_FRONT_LEFT/n015-2018__CAM_FRONT_LEFT__1533279665104844.jpg"));
    assertEquals("CAM_BACK", StandInFrames.camera(".../samples/CAM_BACK/n008__CAM_BACK__15.jpg"));
    assertEquals("CAM_FRONT", StandInFrames.camera(".../100k/train/9afb9daf-81ca742d.jpg"));
  }

  @Test
  void aPathAlwaysGivesTheSameFrameAndAMarkerGetsAVehicle() {
    String path = ".../100k/train/9afb9daf-81ca742d.jpg";
    BufferedImage a = StandInFrames.render(path, "CAM_FRONT", List.of(), 96);
    BufferedImage b = StandInFrames.render(path, "CAM_FRONT", List.of(), 96);
    assertArrayEquals(pixels(a), pixels(b));
    BufferedImage other =
        StandInFrames.render(".../100k/train/other.jpg", "CAM_FRONT", List.of(), 96);
    assertTrue(!java.util.Arrays.equals(pixels(a), pixels(other)), "paths give different scenes");

    // the marked object is drawn as a dark vehicle just above the point the marker names
    StandInFrames.Marker marker = new StandInFrames.Marker("CAM_FRONT", 0.75, 0.9);
    BufferedImage marked = StandInFrames.render(path, "CAM_FRONT", List.of(marker), 96);
    Color body = new Color(marked.getRGB(72, 84));
    assertTrue(body.getRed() < 40 && body.getGreen() < 40 && body.getBlue() < 40, body.toString());
  }

  private static int[] pixels(BufferedImage image) {
    return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
  }
}
