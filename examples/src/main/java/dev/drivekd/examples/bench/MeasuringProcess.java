package dev.drivekd.examples.bench;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Re-runs a benchmark in a child JVM whose C allocator returns every large block to the system as
 * soon as it is freed ({@code MALLOC_MMAP_THRESHOLD_}). Without it, glibc keeps freed tensor memory
 * for reuse and resident-memory peaks show only growth beyond earlier allocations; with it, the
 * peak of a phase is the native memory that phase really held.
 */
final class MeasuringProcess {
  static final String THRESHOLD_VARIABLE = "MALLOC_MMAP_THRESHOLD_";
  private static final String THRESHOLD_BYTES = "65536";

  private MeasuringProcess() {}

  /** Whether this process already runs with the allocator setting. */
  static boolean active() {
    return System.getenv(THRESHOLD_VARIABLE) != null;
  }

  /**
   * Runs {@code mainClass args} in a child JVM with the allocator setting, same class path and JVM
   * options, standard error inherited; returns what it printed on standard output.
   */
  static String run(String mainClass, List<String> args) throws Exception {
    return run(mainClass, List.of(), args);
  }

  /**
   * As {@link #run(String, List)}, with {@code jvmOptions} after this JVM's own options (so they
   * take precedence); heap options ({@code -Xm...}) among them replace this JVM's heap options and
   * {@code -XX:+AlwaysPreTouch}.
   */
  static String run(String mainClass, List<String> jvmOptions, List<String> args) throws Exception {
    boolean ownHeap = jvmOptions.stream().anyMatch(o -> o.startsWith("-Xm"));
    // heap options given for the child replace this JVM's
    List<String> command =
        ChildJvm.command(
            o -> !ownHeap || !(o.startsWith("-Xm") || o.startsWith("-XX:+AlwaysPreTouch")),
            jvmOptions,
            mainClass,
            args);
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectInput(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put(THRESHOLD_VARIABLE, THRESHOLD_BYTES);
    Process child = pb.start();
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = child.waitFor();
    if (status != 0) {
      throw new IllegalStateException("The measuring process exited with status " + status);
    }
    return out;
  }
}
