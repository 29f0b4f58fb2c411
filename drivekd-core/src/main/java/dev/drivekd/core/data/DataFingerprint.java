package dev.drivekd.core.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 fingerprints of dataset files, recorded in checkpoints and teacher-target caches so that
 * a run or a cache can say which data it was made from. One file's fingerprint is the SHA-256 of
 * its bytes (what {@code sha256sum} prints); several files' is the SHA-256 of their hex digests,
 * each followed by a newline, in the given order. Image files are only covered when they are passed
 * in.
 */
public final class DataFingerprint {

  private static final int BUFFER = 1 << 16;

  private DataFingerprint() {}

  /** The lower-case hex SHA-256 of a file's bytes. */
  public static String sha256(Path file) {
    MessageDigest digest = newSha256();
    byte[] buffer = new byte[BUFFER];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read the file to fingerprint it", e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * The fingerprint of a dataset made of {@code files}: the file's own SHA-256 for one file, else
   * the SHA-256 of the per-file digests (hex, one per line, in order).
   */
  public static String of(List<Path> files) {
    if (files == null || files.isEmpty()) {
      throw new IllegalArgumentException("a dataset fingerprint needs at least one file");
    }
    if (files.size() == 1) {
      return sha256(files.get(0));
    }
    StringBuilder lines = new StringBuilder();
    for (Path file : files) {
      lines.append(sha256(file)).append('\n');
    }
    return sha256(lines.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The lower-case hex SHA-256 of {@code bytes}. */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newSha256().digest(bytes));
  }

  /** A fresh SHA-256 digest (every JVM has one). */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }
}
