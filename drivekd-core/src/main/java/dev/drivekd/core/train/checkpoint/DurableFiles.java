package dev.drivekd.core.train.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File operations that survive a crash: fsync of files and folders, atomic renames, and small files
 * replaced atomically (write a temporary sibling, fsync, rename over the target, fsync the folder).
 */
public final class DurableFiles {

  private static final Logger LOG = LoggerFactory.getLogger(DurableFiles.class);

  private DurableFiles() {}

  /**
   * Replaces {@code target} with {@code content} atomically: a reader sees the old or the new
   * content, never a mix, also after a crash.
   */
  public static void writeAtomically(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path temp = dir.resolve("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      try (FileChannel channel =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      moveAtomically(temp, target, true);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Renames {@code from} to {@code to} with {@link StandardCopyOption#ATOMIC_MOVE} and fsyncs the
   * target's folder. Fails when the file system cannot rename atomically.
   *
   * @param replace whether an existing {@code to} (a file) may be replaced
   */
  public static void moveAtomically(Path from, Path to, boolean replace) throws IOException {
    try {
      if (replace) {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "the file system of " + to + " cannot rename atomically; checkpoints need it", e);
    }
    syncDirectory(to.toAbsolutePath().getParent());
  }

  /** Fsyncs a file's content and metadata. */
  public static void syncFile(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Fsyncs a folder so that renames and new entries in it are durable. Platforms that cannot open a
   * folder (Windows) skip it.
   */
  public static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      LOG.debug("cannot fsync folder {} on this platform: {}", dir, e.toString());
    }
  }

  /** Deletes a file or a folder tree; a missing path is fine. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        path,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
