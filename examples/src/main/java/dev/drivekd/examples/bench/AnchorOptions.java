package dev.drivekd.examples.bench;

import ai.djl.pytorch.jni.JniUtils;
import picocli.CommandLine.Option;

/**
 * The options of benches that run a PyTorch eager anchor beside drivekd: libtorch's threads (the
 * anchor gets the same number) and the Python that runs the anchor.
 */
final class AnchorOptions {

  @Option(
      names = "--threads",
      defaultValue = "0",
      description =
          "libtorch intra-op threads for this run (0: keep libtorch's choice, or the"
              + " ai.djl.pytorch.num_threads system property); the PyTorch anchor gets the same.")
  int threads;

  @Option(
      names = "--python",
      defaultValue = "/usr/bin/python3",
      description = "Python with torch and numpy for the PyTorch eager anchor (${DEFAULT-VALUE}).")
  String python;

  @Option(names = "--no-python", description = "Do not run the PyTorch anchor.")
  boolean noPython;

  /**
   * Sets libtorch's intra-op threads when {@code --threads} asks; says where the count comes from.
   */
  String applyThreads() {
    if (threads > 0) {
      JniUtils.setNumThreads(threads);
      return "--threads";
    }
    if (System.getProperty("ai.djl.pytorch.num_threads") != null) {
      return "ai.djl.pytorch.num_threads";
    }
    return "libtorch default";
  }

  /** Why the anchor cannot run, or null when it can. */
  String whyNoAnchor() {
    return noPython ? "--no-python" : PyTorchAnchor.unavailable(python);
  }
}
