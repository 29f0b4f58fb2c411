package dev.drivekd.core.train.checkpoint;

import dev.drivekd.core.data.DataFingerprint;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A new file written through a stream that counts and SHA-256-hashes every byte; {@link #finish()}
 * flushes, fsyncs and closes it and returns its {@link FileDigest}. Closing without finishing
 * abandons the file (it stays on disk, unsynced, for the caller to delete).
 */
public final class ChecksummedOutput implements Closeable {

  private final Path file;
  private final FileChannel channel;
  private final MessageDigest digest = DataFingerprint.newSha256();
  private final OutputStream out;
  private long count;
  private boolean closed;

  private ChecksummedOutput(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
    OutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
    this.out =
        new FilterOutputStream(buffered) {
          @Override
          public void write(int b) throws IOException {
            buffered.write(b);
            digest.update((byte) b);
            count++;
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            buffered.write(b, off, len);
            digest.update(b, off, len);
            count += len;
          }

          @Override
          public void close() {
            // The owner closes the channel in finish() or close().
          }
        };
  }

  /** Creates {@code file}, which must not exist yet. */
  public static ChecksummedOutput create(Path file) throws IOException {
    FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    return new ChecksummedOutput(file, channel);
  }

  /** The file being written. */
  public Path file() {
    return file;
  }

  /** The stream to write to; closing it does nothing. */
  public OutputStream stream() {
    return out;
  }

  /** Bytes written so far (the offset of the next byte). */
  public long position() {
    return count;
  }

  /** Flushes, fsyncs and closes the file; returns its size and SHA-256. */
  public FileDigest finish() throws IOException {
    out.flush();
    channel.force(true);
    closed = true;
    channel.close();
    return new FileDigest(count, HexFormat.of().formatHex(digest.digest()));
  }

  /** Closes the file if {@link #finish()} did not (the content is then incomplete). */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      channel.close();
    }
  }
}
