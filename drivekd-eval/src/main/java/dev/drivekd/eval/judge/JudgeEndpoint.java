package dev.drivekd.eval.judge;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to call an OpenAI-compatible chat-completions judge. The key is never logged or
 * printed: {@link #toString()} shows whether one is set, not what it is.
 *
 * @param baseUrl the API root; requests go to {@code baseUrl + "/chat/completions"}
 * @param model the judge model (DriveBench: {@code gpt-3.5-turbo}; the paper: DeepSeek-V3.2)
 * @param apiKey the bearer token, or null for endpoints that need none
 * @param temperature sampling temperature (DriveBench: 0)
 * @param maxTokens the reply's token limit
 * @param timeout connection and per-request timeout
 * @param concurrency requests in flight at most
 * @param maxAttempts attempts per prompt, the first included
 * @param firstBackoff the wait after the first failed attempt; doubled each time
 * @param maxBackoff the longest wait (a server's {@code Retry-After} is capped at it)
 */
public record JudgeEndpoint(
    URI baseUrl,
    String model,
    String apiKey,
    double temperature,
    int maxTokens,
    Duration timeout,
    int concurrency,
    int maxAttempts,
    Duration firstBackoff,
    Duration maxBackoff) {

  /** The environment variable of the endpoint's URL. */
  public static final String URL_VARIABLE = "DRIVEKD_JUDGE_URL";

  /** The environment variable of the judge model. */
  public static final String MODEL_VARIABLE = "DRIVEKD_JUDGE_MODEL";

  /** The environment variable of the key ({@code OPENAI_API_KEY} is read when it is unset). */
  public static final String KEY_VARIABLE = "DRIVEKD_JUDGE_API_KEY";

  /** Checks the settings. */
  public JudgeEndpoint {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(firstBackoff, "firstBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    String scheme = baseUrl.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("judge URL must be http or https, got " + baseUrl);
    }
    if (model.isBlank()) {
      throw new IllegalArgumentException("judge model is empty");
    }
    if (concurrency < 1 || maxAttempts < 1 || maxTokens < 1) {
      throw new IllegalArgumentException(
          "concurrency, maxAttempts and maxTokens must be >= 1, got "
              + concurrency
              + ", "
              + maxAttempts
              + ", "
              + maxTokens);
    }
    if (!(temperature >= 0)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
  }

  /**
   * An endpoint with drivekd's defaults: temperature 0, 3,000 reply tokens (DriveBench's), 60 s
   * timeout, 8 requests in flight, 5 attempts, backoff 1 s doubling to 30 s.
   */
  public static JudgeEndpoint of(URI baseUrl, String model, String apiKey) {
    return new JudgeEndpoint(
        baseUrl,
        model,
        apiKey,
        0.0,
        3000,
        Duration.ofSeconds(60),
        8,
        5,
        Duration.ofSeconds(1),
        Duration.ofSeconds(30));
  }

  /**
   * The endpoint the environment names: {@value #URL_VARIABLE}, {@value #MODEL_VARIABLE} and
   * {@value #KEY_VARIABLE} (or {@code OPENAI_API_KEY}).
   *
   * @throws IllegalStateException naming the variable that is missing
   */
  public static JudgeEndpoint fromEnvironment(Map<String, String> env) {
    String url = env.get(URL_VARIABLE);
    String model = env.get(MODEL_VARIABLE);
    if (url == null || url.isBlank()) {
      throw new IllegalStateException(
          "no judge endpoint: set " + URL_VARIABLE + " (e.g. https://api.openai.com/v1)");
    }
    if (model == null || model.isBlank()) {
      throw new IllegalStateException("no judge model: set " + MODEL_VARIABLE);
    }
    String key = env.getOrDefault(KEY_VARIABLE, env.get("OPENAI_API_KEY"));
    return of(URI.create(url.strip()), model.strip(), key);
  }

  /** The same endpoint with other timeout and retry settings. */
  public JudgeEndpoint withRetries(
      Duration timeout, int maxAttempts, Duration firstBackoff, Duration maxBackoff) {
    return with(timeout, concurrency, maxAttempts, firstBackoff, maxBackoff);
  }

  /** The same endpoint with another number of requests in flight. */
  public JudgeEndpoint withConcurrency(int concurrency) {
    return with(timeout, concurrency, maxAttempts, firstBackoff, maxBackoff);
  }

  private JudgeEndpoint with(
      Duration timeout,
      int concurrency,
      int maxAttempts,
      Duration firstBackoff,
      Duration maxBackoff) {
    return new JudgeEndpoint(
        baseUrl,
        model,
        apiKey,
        temperature,
        maxTokens,
        timeout,
        concurrency,
        maxAttempts,
        firstBackoff,
        maxBackoff);
  }

  /** The chat-completions URL. */
  public URI completionsUri() {
    String base = baseUrl.toString();
    return URI.create(base.endsWith("/") ? base + "chat/completions" : base + "/chat/completions");
  }

  /** The wait before attempt {@code attempt + 1} after {@code attempt} failed ones (1-based). */
  Duration backoff(int attempt) {
    long millis = firstBackoff.toMillis() << Math.min(attempt - 1, 20);
    return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
  }

  @Override
  public String toString() {
    return "JudgeEndpoint{"
        + completionsUri()
        + ", model="
        + model
        + ", key="
        + (apiKey == null || apiKey.isEmpty() ? "none" : "set")
        + ", temperature="
        + temperature
        + ", timeout="
        + timeout.toSeconds()
        + "s, concurrency="
        + concurrency
        + ", attempts="
        + maxAttempts
        + "}";
  }
}
