package dev.drivekd.core.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Resolves image path strings against the data root and checks them: a path must stay inside the
 * root (no {@code ../} or absolute escapes) and, under {@link ImageCheckPolicy#REQUIRE_READABLE},
 * be a readable regular file whose real location is inside the root too (no symlink escapes).
 * Readers of other record formats use it so that their image paths obey the same rules and fail
 * with the same file, record and field.
 */
public final class ImagePathResolver {

  private final Path root;
  private final ImageCheckPolicy policy;

  /**
   * A resolver for paths under {@code root}.
   *
   * @param root the data root
   * @param policy whether files must exist and be readable
   */
  public ImagePathResolver(Path root, ImageCheckPolicy policy) {
    this.root = root.toAbsolutePath().normalize();
    this.policy = policy;
  }

  /**
   * Resolves and checks one path.
   *
   * @param rawPath the path as written in the data
   * @param file the dataset file, for errors
   * @param recordIndex the record, for errors
   * @param field the field the path came from, for errors
   * @throws DatasetException naming file, record and field when the path is not acceptable
   */
  public ImageReference resolve(String rawPath, Path file, int recordIndex, String field) {
    if (rawPath.isEmpty()) {
      throw DatasetException.forField(file, recordIndex, field, "expected a non-empty image path");
    }
    Path resolved;
    try {
      resolved = root.resolve(rawPath).normalize();
    } catch (InvalidPathException e) {
      throw new DatasetException(
          file, recordIndex, field, "invalid image path \"" + rawPath + "\": " + e.getReason(), e);
    }
    if (!resolved.startsWith(root)) {
      throw DatasetException.forField(
          file,
          recordIndex,
          field,
          "image path \""
              + rawPath
              + "\" escapes the data root "
              + root
              + " (resolves to "
              + resolved
              + ")");
    }
    if (resolved.equals(root)) {
      throw DatasetException.forField(
          file, recordIndex, field, "image path \"" + rawPath + "\" names the data root itself");
    }
    if (policy == ImageCheckPolicy.REQUIRE_READABLE) {
      requireReadable(resolved, rawPath, file, recordIndex, field);
    }
    return new ImageReference(rawPath, resolved, field);
  }

  private void requireReadable(
      Path resolved, String rawPath, Path file, int recordIndex, String field) {
    if (!Files.exists(resolved)) {
      throw DatasetException.forField(
          file, recordIndex, field, "image file not found: " + resolved);
    }
    if (!Files.isRegularFile(resolved)) {
      throw DatasetException.forField(
          file, recordIndex, field, "image path is not a regular file: " + resolved);
    }
    if (!Files.isReadable(resolved)) {
      throw DatasetException.forField(
          file, recordIndex, field, "image file is not readable: " + resolved);
    }
    try {
      Path real = resolved.toRealPath();
      Path realRoot = root.toRealPath();
      if (!real.startsWith(realRoot)) {
        throw DatasetException.forField(
            file,
            recordIndex,
            field,
            "image path \""
                + rawPath
                + "\" links outside the data root "
                + realRoot
                + " (to "
                + real
                + ")");
      }
    } catch (IOException e) {
      throw new DatasetException(
          file, recordIndex, field, "cannot resolve image file " + resolved + ": " + e, e);
    }
  }

  /** The data root, absolute and normalised. */
  public Path root() {
    return root;
  }
}
