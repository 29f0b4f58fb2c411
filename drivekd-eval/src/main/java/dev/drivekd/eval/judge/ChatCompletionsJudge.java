package dev.drivekd.eval.judge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A judge behind an OpenAI-compatible {@code /chat/completions} endpoint (OpenAI, DeepSeek, vLLM,
 * llama.cpp's server...), on {@code java.net.http}.
 *
 * <ul>
 *   <li>Cache first: a prompt whose reply is in the {@link JudgeCache} makes no request.
 *   <li>At most {@link JudgeEndpoint#concurrency()} requests in flight.
 *   <li>Retries on HTTP 429 and 5xx, timeouts and connection errors, waiting {@link
 *       JudgeEndpoint#backoff} (doubling) or the server's {@code Retry-After}, whichever is longer,
 *       capped; other 4xx replies fail at once.
 *   <li>A reply that is not a chat completion fails the prompt; a completion without a valid {@code
 *       Total Score} is {@link JudgeVerdict.Status#UNPARSEABLE}. Neither is a score of 0.
 *   <li>The key is sent as a bearer token and appears in no log, message or cache file.
 * </ul>
 */
public final class ChatCompletionsJudge implements Judge {

  private static final Logger LOG = LoggerFactory.getLogger(ChatCompletionsJudge.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JudgeEndpoint endpoint;
  private final JudgeCache cache;
  private final HttpClient http;

  /**
   * A judge at {@code endpoint} whose replies are kept in {@code cache}.
   *
   * @param cache where replies are stored and looked up, or null for none
   */
  public ChatCompletionsJudge(JudgeEndpoint endpoint, JudgeCache cache) {
    this.endpoint = endpoint;
    this.cache = cache;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(endpoint.timeout())
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  @Override
  public String name() {
    return endpoint.model();
  }

  /** The endpoint (its {@code toString} hides the key). */
  public JudgeEndpoint endpoint() {
    return endpoint;
  }

  @Override
  public List<JudgeVerdict> judge(List<JudgePrompt> prompts) {
    List<JudgeVerdict> verdicts = new ArrayList<>(prompts.size());
    List<Integer> toAsk = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      Optional<String> hit =
          cache == null ? Optional.empty() : cache.get(JudgeCache.key(endpoint, prompts.get(i)));
      verdicts.add(hit.map(reply -> JudgeVerdict.ofReply(reply, true, 0)).orElse(null));
      if (hit.isEmpty()) {
        toAsk.add(i);
      }
    }
    if (toAsk.isEmpty()) {
      return verdicts;
    }
    LOG.info(
        "asking judge {} about {} answers ({} from cache)",
        endpoint,
        toAsk.size(),
        prompts.size() - toAsk.size());
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.min(endpoint.concurrency(), toAsk.size()),
            r -> {
              Thread t = new Thread(r, "drivekd-judge");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<JudgeVerdict>> futures = new ArrayList<>(toAsk.size());
      for (int i : toAsk) {
        JudgePrompt prompt = prompts.get(i);
        futures.add(pool.submit(() -> ask(prompt)));
      }
      for (int k = 0; k < toAsk.size(); k++) {
        verdicts.set(toAsk.get(k), futures.get(k).get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the judge", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("judge call failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return verdicts;
  }

  /** One prompt: attempts with backoff until a reply, a non-retryable error or the last attempt. */
  private JudgeVerdict ask(JudgePrompt prompt) throws InterruptedException {
    String body = requestBody(prompt);
    String lastError = "no attempt made";
    for (int attempt = 1; attempt <= endpoint.maxAttempts(); attempt++) {
      Duration wait = endpoint.backoff(attempt);
      try {
        HttpResponse<String> response =
            http.send(request(body), HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status == 200) {
          Optional<String> content = content(response.body());
          if (content.isEmpty()) {
            return JudgeVerdict.failed(
                "HTTP 200 but not a chat completion: " + excerpt(response.body()), attempt);
          }
          if (cache != null) {
            cache.put(JudgeCache.key(endpoint, prompt), endpoint.model(), content.get());
          }
          return JudgeVerdict.ofReply(content.get(), false, attempt);
        }
        lastError = "HTTP " + status + ": " + excerpt(response.body());
        if (status != 429 && status < 500) {
          return JudgeVerdict.failed(lastError, attempt);
        }
        Duration retryAfter = retryAfter(response);
        if (retryAfter.compareTo(wait) > 0) {
          wait =
              retryAfter.compareTo(endpoint.maxBackoff()) > 0 ? endpoint.maxBackoff() : retryAfter;
        }
      } catch (HttpTimeoutException e) {
        lastError = "timed out after " + endpoint.timeout().toMillis() + " ms";
      } catch (IOException e) {
        lastError =
            e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      if (attempt < endpoint.maxAttempts()) {
        LOG.debug(
            "judge attempt {} failed ({}); waiting {} ms", attempt, lastError, wait.toMillis());
        Thread.sleep(wait.toMillis());
      }
    }
    return JudgeVerdict.failed(lastError, endpoint.maxAttempts());
  }

  private HttpRequest request(String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(endpoint.completionsUri())
            .timeout(endpoint.timeout())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (endpoint.apiKey() != null && !endpoint.apiKey().isEmpty()) {
      b.header("Authorization", "Bearer " + endpoint.apiKey());
    }
    return b.build();
  }

  private String requestBody(JudgePrompt prompt) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", endpoint.model());
    root.put("temperature", endpoint.temperature());
    root.put("max_tokens", endpoint.maxTokens());
    ArrayNode messages = root.putArray("messages");
    messages.addObject().put("role", "system").put("content", prompt.system());
    messages.addObject().put("role", "user").put("content", prompt.user());
    return root.toString();
  }

  /** {@code choices[0].message.content}, when the body is a chat completion. */
  static Optional<String> content(String body) {
    try {
      JsonNode node = JSON.readTree(body);
      JsonNode content =
          node == null ? null : node.path("choices").path(0).path("message").get("content");
      return content != null && content.isTextual()
          ? Optional.of(content.asText())
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Duration retryAfter(HttpResponse<?> response) {
    Optional<String> value = response.headers().firstValue("Retry-After");
    if (value.isEmpty()) {
      return Duration.ZERO;
    }
    try {
      return Duration.ofSeconds(Long.parseLong(value.get().strip()));
    } catch (NumberFormatException e) {
      return Duration.ZERO; // an HTTP date: fall back to the backoff
    }
  }

  private String excerpt(String body) {
    String text = body == null ? "" : body.strip().replaceAll("\\s+", " ");
    if (endpoint.apiKey() != null && !endpoint.apiKey().isEmpty()) {
      text = text.replace(endpoint.apiKey(), "***");
    }
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}
