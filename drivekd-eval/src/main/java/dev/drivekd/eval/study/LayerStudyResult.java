package dev.drivekd.eval.study;

import dev.drivekd.core.data.Capability;
import java.util.List;
import java.util.Map;

/**
 * The four pre-studies of one model (docs/shared pre-studies; drivekd's definitions), per decoder
 * layer {@code 0 .. N-1}, and the layer each capability's signal would come from by drivekd's
 * reading of them.
 *
 * @param model the model's name
 * @param depth its decoder layers {@code N}
 * @param samples samples studied per capability
 * @param adjacentSimilarity (a) per layer {@code l}: mean over samples and tokens of the cosine
 *     between the layer's input and output hidden states
 * @param visionTextSimilarity (a) per layer: cosine between the mean vision-token state and the
 *     mean text-token state of the layer's output, mean over samples
 * @param intraGroupSimilarity (b) per capability and layer: mean pairwise cosine between the
 *     capability's samples' text-to-vision blocks (head-averaged, pooled to a common shape)
 * @param hiddenDispersion (c) per layer: mean over samples of {@code 1 - cos(x_i, mean x)}, x the
 *     layer's output state averaged over tokens
 * @param attentionDispersion (c) the same for the head-averaged map pooled to a common shape
 * @param margin (d) per data set name, per position bin of the answer span: the mean generalised
 *     margin {@code p(correct) - max p(other)} at temperature {@link #temperature}
 * @param temperature the margin's softmax temperature
 * @param suggestions per capability, the layers suggested and why
 * @param forwardSeconds time in the model's forward passes over the driving samples
 * @param statisticsSeconds time copying their layers to the host and computing the statistics
 */
public record LayerStudyResult(
    String model,
    int depth,
    Map<Capability, Integer> samples,
    double[] adjacentSimilarity,
    double[] visionTextSimilarity,
    Map<Capability, double[]> intraGroupSimilarity,
    double[] hiddenDispersion,
    double[] attentionDispersion,
    Map<String, double[]> margin,
    double temperature,
    Map<Capability, Suggestion> suggestions,
    double forwardSeconds,
    double statisticsSeconds) {

  /**
   * Layers suggested for one capability's signal.
   *
   * @param layers the layers (0-based)
   * @param rule the rule that chose them
   * @param evidence the figures behind the choice
   */
  public record Suggestion(List<Integer> layers, String rule, String evidence) {}
}
