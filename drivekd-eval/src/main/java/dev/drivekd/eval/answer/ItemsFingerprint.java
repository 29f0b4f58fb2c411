package dev.drivekd.eval.answer;

import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.data.ImageReference;
import dev.drivekd.eval.EvalItem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SHA-256 of what a model is asked: per item its id, capability, type, form, prompt text and
 * reference, and the bytes of every image (each file hashed once, whatever number of items share
 * it). Reordering, editing or re-rendering anything changes it.
 */
public final class ItemsFingerprint {

  private ItemsFingerprint() {}

  /** The fingerprint of {@code items}. */
  public static String of(List<EvalItem> items) {
    MessageDigest sha = DataFingerprint.newSha256();
    Map<Path, String> images = new HashMap<>();
    sha.update("drivekd-items/1\n".getBytes(StandardCharsets.UTF_8));
    for (EvalItem item : items) {
      StringBuilder sb = new StringBuilder();
      sb.append(item.id())
          .append('\u0000')
          .append(item.capability().key())
          .append('\u0000')
          .append(item.questionType())
          .append('\u0000')
          .append(item.form())
          .append('\u0000')
          .append(item.sample().taggedQuestion())
          .append('\u0000')
          .append(item.reference());
      for (ImageReference image : item.sample().images()) {
        sb.append('\u0000')
            .append(image.rawPath())
            .append('=')
            .append(images.computeIfAbsent(image.resolvedPath(), DataFingerprint::sha256));
      }
      sb.append('\n');
      sha.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
    return java.util.HexFormat.of().formatHex(sha.digest());
  }
}
