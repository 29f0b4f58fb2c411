package dev.drivekd.eval.deploy;

/**
 * What running a model costs, as the paper's Table 1 reports it: size, memory, time to the first
 * token and decoding speed at a stated prompt length.
 *
 * @param model the model's name
 * @param parameters parameters of the whole model (vision encoder, projector, language model)
 * @param weightBytes bytes of those parameters in their data types
 * @param promptLength prompt tokens (vision positions included)
 * @param newTokens tokens decoded
 * @param firstTokenMs milliseconds from the prompt to the first new token (prefill), median
 * @param decodeTokensPerSecond tokens per second after the first, median run
 * @param cached whether decoding used a key/value cache (native models) or recomputed (others)
 * @param peakMemoryBytes peak memory of loading and answering: the process's resident memory on the
 *     CPU, the device's used memory on a GPU; NaN when it cannot be read
 * @param memoryKind {@code "process_rss"} or {@code "gpu_used"}
 */
public record DeploymentFigures(
    String model,
    long parameters,
    long weightBytes,
    int promptLength,
    int newTokens,
    double firstTokenMs,
    double decodeTokensPerSecond,
    boolean cached,
    double peakMemoryBytes,
    String memoryKind) {}
