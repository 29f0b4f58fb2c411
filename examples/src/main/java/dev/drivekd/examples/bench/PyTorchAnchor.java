package dev.drivekd.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch eager anchor of {@code bench model}: a Python process running {@code
 * internvl_step_anchor.py --serve} on the files drivekd wrote. It checks its logits against
 * drivekd's once, then times one step of its own each time {@link #stepMs} asks, so that the caller
 * can interleave them with drivekd's steps. Python is optional: {@link #unavailable} says why it
 * cannot run.
 */
final class PyTorchAnchor implements AutoCloseable {

  /** The script, a resource next to this class. */
  static final String SCRIPT = "internvl_step_anchor.py";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long PROBE_SECONDS = 120;

  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final Path errors;
  private final JsonNode info;

  private PyTorchAnchor(Process process, Path errors) throws IOException {
    this.process = process;
    this.errors = errors;
    this.out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.info = readLine("the parity check");
  }

  /** Probe results per Python path; {@code ""} means usable. */
  private static final Map<String, String> PROBED = new ConcurrentHashMap<>();

  /**
   * Why {@code python} cannot run the anchor, or {@code null} when it can (the file is executable
   * and {@code import torch, numpy} works there). Asked once per path and process.
   */
  static String unavailable(String python) {
    String why = PROBED.computeIfAbsent(python, p -> Objects.requireNonNullElse(probe(p), ""));
    return why.isEmpty() ? null : why;
  }

  private static String probe(String python) {
    Path path = Path.of(python);
    if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
      return python + " does not exist or is not executable";
    }
    try {
      Process p =
          new ProcessBuilder(python, "-c", "import torch, numpy").redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] text = p.getInputStream().readAllBytes();
      if (!p.waitFor(PROBE_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return python + " did not answer within " + PROBE_SECONDS + " s";
      }
      if (p.exitValue() != 0) {
        return "import torch, numpy fails in "
            + python
            + ": "
            + lastLine(new String(text, StandardCharsets.UTF_8));
      }
      return null;
    } catch (IOException e) {
      return "cannot start " + python + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while probing " + python;
    }
  }

  /** Copies the script out of the jar into {@code dir}. */
  static Path extractScript(Path dir) throws IOException {
    Path script = dir.resolve(SCRIPT);
    try (InputStream resource = PyTorchAnchor.class.getResourceAsStream(SCRIPT)) {
      if (resource == null) {
        throw new IllegalStateException(SCRIPT + " is missing from the drivekd jar");
      }
      Files.copy(resource, script, StandardCopyOption.REPLACE_EXISTING);
    }
    return script;
  }

  /**
   * Starts the anchor on {@code dir} (config.json, model.safetensors, batch.safetensors) with
   * {@code threads} intra-op threads and waits for its parity check and warm-up.
   */
  static PyTorchAnchor start(String python, Path script, Path dir, int threads) throws IOException {
    return start(python, script, dir, threads, "--serve");
  }

  /**
   * Starts the anchor's decoding server on {@code dir} (config.json, model.safetensors,
   * decode.safetensors) and waits for its token parity check.
   */
  static PyTorchAnchor startDecoding(String python, Path script, Path dir, int threads)
      throws IOException {
    return start(python, script, dir, threads, "--decode");
  }

  private static PyTorchAnchor start(String python, Path script, Path dir, int threads, String mode)
      throws IOException {
    Path errors = dir.resolve("anchor.stderr");
    Process process =
        new ProcessBuilder(
                List.of(
                    python,
                    script.toString(),
                    dir.toString(),
                    "--threads",
                    Integer.toString(threads),
                    mode))
            .redirectError(errors.toFile())
            .start();
    try {
      return new PyTorchAnchor(process, errors);
    } catch (IOException | RuntimeException e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /** What the anchor reported after its first pass: torch, threads, blas, logit diff, loss. */
  JsonNode info() {
    return info;
  }

  /**
   * Times one PyTorch step (measured inside Python).
   *
   * @return {@code [step ms, forward + loss ms]}
   */
  double[] stepMs() {
    try {
      in.write("step\n");
      in.flush();
      JsonNode t = readLine("a step");
      return new double[] {t.get("ms").asDouble(), t.get("forward_ms").asDouble()};
    } catch (IOException e) {
      throw new IllegalStateException("the PyTorch anchor stopped: " + errorTail(), e);
    }
  }

  /**
   * The rise of the anchor process's resident memory during one step over its resident size before
   * it, in MiB (NaN where {@code /proc} cannot tell).
   */
  double peakStepMb() {
    try {
      in.write("peak\n");
      in.flush();
      JsonNode t = readLine("a peak measurement");
      JsonNode v = t.get("peak_mb");
      return v == null || v.isNull() ? Double.NaN : v.asDouble();
    } catch (IOException e) {
      throw new IllegalStateException("the PyTorch anchor stopped: " + errorTail(), e);
    }
  }

  /**
   * Times one greedy decoding with the key/value cache (measured inside Python).
   *
   * @return {@code [first-token ms, total ms]}
   */
  double[] decodeMs() {
    try {
      in.write("decode\n");
      in.flush();
      JsonNode t = readLine("a decoding");
      return new double[] {t.get("first_ms").asDouble(), t.get("total_ms").asDouble()};
    } catch (IOException e) {
      throw new IllegalStateException("the PyTorch anchor stopped: " + errorTail(), e);
    }
  }

  private JsonNode readLine(String what) throws IOException {
    String line = out.readLine();
    if (line == null) {
      throw new IllegalStateException(
          "the PyTorch anchor exited during " + what + ": " + errorTail());
    }
    return JSON.readTree(line);
  }

  private String errorTail() {
    try {
      process.waitFor(5, TimeUnit.SECONDS);
      String text = Files.exists(errors) ? Files.readString(errors) : "";
      return text.isBlank() ? "(no message)" : lastLine(text);
    } catch (IOException e) {
      return "(cannot read its messages: " + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1];
  }

  @Override
  public void close() {
    try {
      in.write("quit\n");
      in.flush();
      in.close();
    } catch (IOException e) {
      // the process is gone already
    }
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
