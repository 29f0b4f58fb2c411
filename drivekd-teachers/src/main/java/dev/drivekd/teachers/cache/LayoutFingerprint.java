package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.TokenLayout;
import dev.drivekd.core.data.DataFingerprint;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A SHA-256 of one sample's token layout: its length and, per position, whether it is a vision
 * token and whether it is supervised. Cached targets record it so that a target is never applied to
 * a sample laid out differently (another tokenizer, tokens per image or prompt). Token ids are not
 * part of the layout; the dataset fingerprint covers the text.
 */
public final class LayoutFingerprint {

  private LayoutFingerprint() {}

  /** The fingerprint of sample {@code b} of {@code layout} (padding excluded), lower-case hex. */
  public static String of(TokenLayout layout, int b) {
    MessageDigest digest = DataFingerprint.newSha256();
    digest.update("drivekd-layout/1\n".getBytes(StandardCharsets.US_ASCII));
    int length = layout.length(b);
    digest.update(
        new byte[] {
          (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length
        });
    byte[] flags = new byte[length];
    for (int i = 0; i < length; i++) {
      flags[i] = (byte) ((layout.isImage(b, i) ? 1 : 0) | (layout.isSupervised(b, i) ? 2 : 0));
    }
    digest.update(flags);
    return HexFormat.of().formatHex(digest.digest());
  }
}
