package dev.drivekd.eval.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chat-completions judge against a stub server on loopback. */
class ChatCompletionsJudgeTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "sk-test-secret-123";

  @TempDir Path tmp;

  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final ConcurrentLinkedQueue<String> authorizations = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<JsonNode> bodies = new ConcurrentLinkedQueue<>();

  /** What the stub does for request number n (1-based). */
  private record Reply(int status, String body, long delayMillis, String retryAfter) {
    static Reply completion(String content) {
      return new Reply(200, completionBody(content), 0, null);
    }
  }

  private static String completionBody(String content) {
    return JSON.createObjectNode()
        .set(
            "choices",
            JSON.createArrayNode()
                .add(
                    JSON.createObjectNode()
                        .set(
                            "message",
                            JSON.createObjectNode()
                                .put("role", "assistant")
                                .put("content", content))))
        .toString();
  }

  private URI start(IntFunction<Reply> script) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext(
        "/v1/chat/completions",
        exchange -> {
          int n = requests.incrementAndGet();
          int now = inFlight.incrementAndGet();
          maxInFlight.accumulateAndGet(now, Math::max);
          try {
            handle(exchange, script.apply(n));
          } finally {
            inFlight.decrementAndGet();
          }
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
  }

  private void handle(HttpExchange exchange, Reply reply) throws IOException {
    authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
    bodies.add(JSON.readTree(exchange.getRequestBody().readAllBytes()));
    try {
      Thread.sleep(reply.delayMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
    if (reply.retryAfter() != null) {
      exchange.getResponseHeaders().add("Retry-After", reply.retryAfter());
    }
    try {
      exchange.sendResponseHeaders(reply.status(), out.length);
      exchange.getResponseBody().write(out);
    } catch (IOException e) {
      // the client gave up (timeout): nothing to send to
    } finally {
      exchange.close();
    }
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static JudgeEndpoint endpoint(URI uri, int attempts, long timeoutMillis) {
    return JudgeEndpoint.of(uri, "judge-model", KEY)
        .withRetries(
            Duration.ofMillis(timeoutMillis),
            attempts,
            Duration.ofMillis(10),
            Duration.ofMillis(50));
  }

  private static List<JudgePrompt> prompts(int n) {
    List<JudgePrompt> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          JudgePrompt.of(
              JudgeTask.PLANNING_VQA,
              "What should the ego vehicle do " + i + "?",
              "Stop.",
              "Go.",
              null));
    }
    return out;
  }

  @Test
  void scoresAReplyAndTheRerunComesFromTheCacheWithoutARequest() throws IOException {
    URI uri = start(n -> Reply.completion("Action: 30\nTotal Score: 72"));
    JudgeCache cache = new JudgeCache(tmp.resolve("cache"));
    ChatCompletionsJudge judge = new ChatCompletionsJudge(endpoint(uri, 3, 2000), cache);

    JudgeVerdict first = judge.judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.SCORED, first.status());
    assertEquals(OptionalInt.of(72), first.score());
    assertFalse(first.cached());
    assertEquals(1, first.attempts());
    assertEquals(1, requests.get());

    // what was sent: bearer key, model, temperature 0, system then user message
    assertEquals("Bearer " + KEY, authorizations.peek());
    JsonNode body = bodies.peek();
    assertEquals("judge-model", body.get("model").asText());
    assertEquals(0.0, body.get("temperature").asDouble());
    assertEquals("system", body.get("messages").get(0).get("role").asText());
    assertTrue(body.get("messages").get(1).get("content").asText().contains("do 0?"));

    JudgeVerdict again =
        new ChatCompletionsJudge(endpoint(uri, 3, 2000), cache).judge(prompts(1)).get(0);
    assertEquals(OptionalInt.of(72), again.score());
    assertTrue(again.cached());
    assertEquals(0, again.attempts());
    assertEquals(1, requests.get(), "a cache hit makes no request");
  }

  @Test
  void retriesAfter429AndThenScores() throws IOException {
    URI uri =
        start(
            n ->
                n == 1
                    ? new Reply(429, "{\"error\":\"rate limited\"}", 0, "0")
                    : Reply.completion("Total Score: 55"));
    JudgeVerdict v =
        new ChatCompletionsJudge(endpoint(uri, 3, 2000), null).judge(prompts(1)).get(0);
    assertEquals(OptionalInt.of(55), v.score());
    assertEquals(2, v.attempts());
    assertEquals(2, requests.get());
  }

  @Test
  void aTimeoutIsRetriedAndTheSecondAttemptScores() throws IOException {
    URI uri =
        start(
            n ->
                n == 1
                    ? new Reply(200, completionBody("Total Score: 10"), 1500, null)
                    : Reply.completion("Total Score: 90"));
    JudgeVerdict v = new ChatCompletionsJudge(endpoint(uri, 3, 300), null).judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.SCORED, v.status());
    assertEquals(OptionalInt.of(90), v.score());
    assertEquals(2, v.attempts());
  }

  @Test
  void serverErrorsOnEveryAttemptFailThePromptAfterMaxAttempts() throws IOException {
    URI uri = start(n -> new Reply(503, "overloaded", 0, null));
    JudgeVerdict v =
        new ChatCompletionsJudge(endpoint(uri, 4, 2000), null).judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.FAILED, v.status());
    assertTrue(v.score().isEmpty());
    assertEquals(4, v.attempts());
    assertEquals(4, requests.get());
    assertTrue(v.error().contains("HTTP 503"), v.error());
  }

  @Test
  void aRefusedKeyFailsAtOnceAndTheKeyIsNotInTheError() throws IOException {
    URI uri = start(n -> new Reply(401, "invalid key " + KEY, 0, null));
    JudgeVerdict v =
        new ChatCompletionsJudge(endpoint(uri, 4, 2000), null).judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.FAILED, v.status());
    assertEquals(1, requests.get(), "401 is not retried");
    assertTrue(v.error().startsWith("HTTP 401"), v.error());
    assertFalse(v.error().contains(KEY), v.error());
    assertFalse(endpoint(uri, 1, 1).toString().contains(KEY));
  }

  @Test
  void aMalformedBodyFailsThePromptInsteadOfScoringIt() throws IOException {
    URI uri = start(n -> new Reply(200, "<html>gateway</html>", 0, null));
    JudgeCache cache = new JudgeCache(tmp.resolve("cache"));
    JudgeVerdict v =
        new ChatCompletionsJudge(endpoint(uri, 3, 2000), cache).judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.FAILED, v.status());
    assertTrue(v.error().contains("not a chat completion"), v.error());
    // nothing cached: a rerun asks again
    new ChatCompletionsJudge(endpoint(uri, 3, 2000), cache).judge(prompts(1));
    assertEquals(2, requests.get());
  }

  @Test
  void aNonNumericScoreIsUnparseableNotZero() throws IOException {
    URI uri = start(n -> Reply.completion("Good answer overall.\nTotal Score: eighty"));
    JudgeVerdict v =
        new ChatCompletionsJudge(endpoint(uri, 3, 2000), null).judge(prompts(1)).get(0);
    assertEquals(JudgeVerdict.Status.UNPARSEABLE, v.status());
    assertTrue(v.score().isEmpty());
    assertTrue(v.reply().contains("eighty"));
  }

  @Test
  void anEndpointThatIsDownFailsEveryPromptWithTheConnectionError() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI uri = URI.create("http://127.0.0.1:" + port + "/v1");
    List<JudgeVerdict> v = new ChatCompletionsJudge(endpoint(uri, 2, 500), null).judge(prompts(2));
    assertEquals(2, v.size());
    for (JudgeVerdict verdict : v) {
      assertEquals(JudgeVerdict.Status.FAILED, verdict.status());
      assertEquals(2, verdict.attempts());
      assertTrue(verdict.error().contains("Connect"), verdict.error());
    }
  }

  @Test
  void requestsInFlightStayWithinTheConcurrencyBound() throws IOException {
    URI uri = start(n -> new Reply(200, completionBody("Total Score: " + n), 150, null));
    JudgeEndpoint e = endpoint(uri, 1, 5000).withConcurrency(2);
    List<JudgeVerdict> v = new ChatCompletionsJudge(e, null).judge(prompts(6));
    assertEquals(6, requests.get());
    assertEquals(2, maxInFlight.get());
    List<Integer> scores = new ArrayList<>();
    v.forEach(x -> scores.add(x.score().getAsInt()));
    Collections.sort(scores);
    assertEquals(List.of(1, 2, 3, 4, 5, 6), scores);
  }
}
