package dev.drivekd.examples.cli;

import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.engine.CpuThreads;
import dev.drivekd.eval.judge.JudgeUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code examples/target/drivekd.jar}. */
@Command(
    name = "drivekd",
    mixinStandardHelpOptions = true,
    versionProvider = DriveKdCommand.Version.class,
    description = {
      "Multi-teacher attention distillation of driving vision-language models (Drive-KD,"
          + " arXiv 2601.21288) on DJL."
    },
    subcommands = {
      DemoCommand.class,
      TrainCommand.class,
      CacheTeachersCommand.class,
      EvalCommand.class,
      GenerateCommand.class,
      DataCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class DriveKdCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "On an error, print its stack trace too.")
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    ComputeDevice.requireOffline();
    CpuThreads
        .reserveCoreForPrefetch(); // before the engine starts; -Dai.djl.pytorch.num_threads wins
    System.exit(newCommandLine().execute(args));
  }

  /** The configured picocli command line, shared by {@link #main} and tests. */
  public static CommandLine newCommandLine() {
    CommandLine cli = new CommandLine(new DriveKdCommand());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          boolean verbose = parseResult.hasMatchedOption("--verbose");
          java.io.PrintWriter err = commandLine.getErr();
          if (verbose) {
            e.printStackTrace(err);
          }
          // bad input is the user's to fix: say what and where, in one line
          if (e instanceof DatasetException
              || e instanceof IllegalArgumentException
              || e instanceof JudgeUnavailableException
              || e instanceof dev.drivekd.teachers.cache.TeacherCacheException
              || e instanceof dev.drivekd.teachers.torchscript.TorchScriptModelException) {
            err.println("drivekd: " + e.getMessage());
            err.flush();
            return 2;
          }
          // anything else is drivekd's or the machine's: one line, the trace under --verbose
          err.println(
              "drivekd: "
                  + e.getClass().getSimpleName()
                  + (e.getMessage() == null ? "" : ": " + e.getMessage())
                  + (verbose ? "" : " (--verbose shows where)"));
          err.flush();
          return 1;
        });
    return cli;
  }

  /** Reads the build's version stamp. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      Properties p = new Properties();
      try (InputStream in =
          DriveKdCommand.class.getResourceAsStream("/dev/drivekd/examples/version.properties")) {
        if (in == null) {
          throw new IllegalStateException("version.properties missing from the drivekd jar");
        }
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new String[] {
        "drivekd " + p.getProperty("version"),
        "DJL " + p.getProperty("djl") + ", libtorch " + p.getProperty("pytorch"),
        "Java " + System.getProperty("java.version")
      };
    }
  }
}
