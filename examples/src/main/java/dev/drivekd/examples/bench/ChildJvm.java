package dev.drivekd.examples.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The command line of a child JVM on this JVM's executable and class path. */
final class ChildJvm {

  private ChildJvm() {}

  /**
   * {@code java <this JVM's options that keep> <extra> -cp <class path> mainClass args}.
   *
   * @param keep which of this JVM's own options the child gets
   * @param extra options after those (so they take precedence)
   */
  static List<String> command(
      Predicate<String> keep, List<String> extra, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElseThrow(() -> new IllegalStateException("cannot find this JVM's executable")));
    for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (keep.test(option)) {
        command.add(option);
      }
    }
    command.addAll(extra);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    return command;
  }
}
