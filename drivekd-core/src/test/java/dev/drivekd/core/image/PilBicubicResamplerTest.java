package dev.drivekd.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Hand-computed cases of PIL's antialiased bicubic (Keys a = -0.5, fixed point, two passes). */
class PilBicubicResamplerTest {

  @Test
  void kernelValues() {
    assertEquals(1.0, PilBicubicResampler.bicubic(0.0));
    assertEquals(0.8671875, PilBicubicResampler.bicubic(0.25));
    assertEquals(0.5625, PilBicubicResampler.bicubic(-0.5));
    assertEquals(0.0, PilBicubicResampler.bicubic(1.0), 0.0);
    assertEquals(-0.0625, PilBicubicResampler.bicubic(1.5));
    assertEquals(-0.0703125, PilBicubicResampler.bicubic(1.25));
    assertEquals(0.0, PilBicubicResampler.bicubic(2.0));
    assertEquals(0.0, PilBicubicResampler.bicubic(-3.0));
  }

  /**
   * 4 to 2, scale 2: support 4, output 0 centred at 1 with taps at -0.25, 0.25, 0.75, 1.25 (kernel
   * argument halved): weights 0.8671875, 0.8671875, 0.2265625, -0.0703125 over 1.890625, i.e. 111,
   * 111, 29, -9 over 242; in 22-bit fixed point (w * 2^22 rounded half away from zero) 1923834,
   * 1923834, 502623, -155987 (sum exactly 2^22). Row [0, 64, 128, 255] gives (1923834*64 +
   * 502623*128 - 155987*255 + 2^21) >> 22 = 149781587 >> 22 = 35 and, mirrored, 771093446 >> 22 =
   * 183.
   */
  @Test
  void fourToTwoByHand() {
    int[] grad = {0, 64, 128, 255};
    int[] v = new int[4 * 4 * 3];
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        int o = (y * 4 + x) * 3;
        v[o] = grad[x]; // R varies along x
        v[o + 1] = 100; // G constant
        v[o + 2] = grad[y]; // B varies along y
      }
    }
    RgbImage out = PilBicubicResampler.resize(RgbImage.of(4, 4, v), 2, 2);
    assertArrayEquals(
        RgbImage.of(2, 2, 35, 100, 35, 183, 100, 35, 35, 100, 183, 183, 100, 183).pixels(),
        out.pixels());
    PilBicubicResampler.Coefficients c = PilBicubicResampler.Coefficients.of(4, 2);
    assertEquals(9, c.ksize);
    assertArrayEquals(new int[] {0, 4, 0, 4}, c.bounds);
    assertEquals(1923834, c.fixed[0]);
    assertEquals(1923834, c.fixed[1]);
    assertEquals(502623, c.fixed[2]);
    assertEquals(-155987, c.fixed[3]);
    assertEquals(-155987, c.fixed[9]);
  }

  /**
   * 2 to 4 (upscaling, no antialias stretch): output 1 centred at 0.75 takes inputs 0 and 1 with
   * kernel values 0.8671875 and 0.2265625, normalised by their sum 1.09375; [0, 255] gives 0 (255 *
   * -0.088 clamps), 53, 202 and 255 (clamped from 277.5).
   */
  @Test
  void twoToFourByHandClampsOvershoot() {
    RgbImage in = RgbImage.of(2, 1, 0, 0, 0, 255, 255, 255);
    RgbImage out = PilBicubicResampler.resize(in, 4, 1);
    assertArrayEquals(
        RgbImage.of(4, 1, 0, 0, 0, 53, 53, 53, 202, 202, 202, 255, 255, 255).pixels(),
        out.pixels());
  }

  @Test
  void sameSizeIsACopy() {
    RgbImage in = RgbImage.of(2, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 251, 252);
    RgbImage out = PilBicubicResampler.resize(in, 2, 2);
    assertArrayEquals(in.pixels(), out.pixels());
    assertNotSame(in.pixels(), out.pixels());
  }

  @Test
  void constantImageStaysConstant() {
    int w = 13;
    int h = 9;
    int[] v = new int[w * h * 3];
    for (int i = 0; i < w * h; i++) {
      v[i * 3] = 17;
      v[i * 3 + 1] = 200;
      v[i * 3 + 2] = 255;
    }
    RgbImage in = RgbImage.of(w, h, v);
    for (int s : new int[] {1, 2, 4, 7, 20, 448}) {
      RgbImage out = PilBicubicResampler.resize(in, s, s);
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          assertEquals(17, out.get(x, y, 0));
          assertEquals(200, out.get(x, y, 1));
          assertEquals(255, out.get(x, y, 2));
        }
      }
    }
  }

  @Test
  void rejectsEmptyTargets() {
    RgbImage in = RgbImage.of(1, 1, 1, 2, 3);
    assertThrows(IllegalArgumentException.class, () -> PilBicubicResampler.resize(in, 0, 1));
  }
}
