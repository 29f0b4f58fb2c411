package dev.drivekd.core.train.checkpoint;

import dev.drivekd.core.data.DataFingerprint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The size and SHA-256 of a file, as a manifest records them.
 *
 * @param size bytes
 * @param sha256 lower-case hex SHA-256 of the bytes
 */
public record FileDigest(long size, String sha256) {

  /** Reads {@code file} once and digests it. */
  public static FileDigest of(Path file) throws IOException {
    MessageDigest digest = DataFingerprint.newSha256();
    long size = 0;
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
        size += n;
      }
    }
    return new FileDigest(size, HexFormat.of().formatHex(digest.digest()));
  }

  /**
   * Checks that {@code file} has this size and SHA-256.
   *
   * @throws CheckpointException naming the file and both values on a mismatch or a missing file
   */
  public void verify(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException(file, "missing (listed in the manifest)", null);
    }
    FileDigest actual;
    try {
      actual = of(file);
    } catch (IOException e) {
      throw new CheckpointException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (actual.size != size) {
      throw new CheckpointException(
          file,
          "size mismatch: the manifest says " + size + " bytes, the file has " + actual.size,
          null);
    }
    if (!actual.sha256.equals(sha256)) {
      throw new CheckpointException(
          file,
          "SHA-256 mismatch: the manifest says " + sha256 + ", the file hashes to " + actual.sha256,
          null);
    }
  }
}
