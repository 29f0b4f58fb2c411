package dev.drivekd.core.prompt;

import java.util.Objects;

/**
 * An image block of a prompt. It holds the path string exactly as written in the data; resolving it
 * against a data root is the reader's job. Its positions always get label {@value
 * ContentBlock#IGNORE_LABEL}, whatever the loss mask says.
 *
 * @param path the image path as written in the data
 * @param lossMask the mask of the turn the image sits in
 */
public record ImageBlock(String path, boolean lossMask) implements ContentBlock {

  /** Checks the path is not null. */
  public ImageBlock {
    Objects.requireNonNull(path, "path");
  }

  /** The label of every image position: always {@value ContentBlock#IGNORE_LABEL}. */
  public int label() {
    return IGNORE_LABEL;
  }
}
