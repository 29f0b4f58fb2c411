package dev.drivekd.core.train.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * A file format for a map of named tensors (the student's weights in a checkpoint). {@link
 * TensorFile} is drivekd's own; a checkpoint's manifest records the {@link #format()} it was
 * written with, so a store can read checkpoints of every codec it knows.
 */
public interface TensorCodec {

  /** The format's name and version as the manifest records it, e.g. {@code drivekd-tensors/1}. */
  String format();

  /** The file name inside a checkpoint folder, e.g. {@code student.dkt}. */
  String fileName();

  /**
   * Writes {@code tensors} in map order; the stream is flushed, not closed.
   *
   * @throws IOException when writing fails
   * @throws IllegalArgumentException when a tensor cannot be stored (dtype, size)
   */
  void write(Map<String, NDArray> tensors, OutputStream out) throws IOException;

  /**
   * Reads every tensor of {@code file} into {@code manager}, in file order.
   *
   * @throws CheckpointException naming the file, the tensor and the field on malformed content
   */
  Map<String, NDArray> read(Path file, NDManager manager);
}
