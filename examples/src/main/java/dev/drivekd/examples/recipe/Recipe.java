package dev.drivekd.examples.recipe;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.drivekd.core.data.Capability;
import java.util.Map;

/**
 * A training run as a recipe file states it, read and checked by {@link RecipeReader}; every path
 * is a string as written after {@code ${VAR}} substitution (relative paths are relative to the
 * working directory). docs/recipes.md lists every key.
 *
 * @param seed the run's seed (data order, dropout, projection shuffles; model seeds are their own)
 * @param device {@code auto} (a GPU when libtorch sees one), {@code cpu} or {@code gpu}
 * @param threads libtorch intra-op threads (0: libtorch's choice)
 * @param output the run folder (checkpoints, metrics, the recipe and its resolved form)
 * @param data the training data
 * @param tokenizer the tokenizer of student and teachers
 * @param student the model trained
 * @param teachers per capability, the teacher (a capability without one has no soft loss)
 * @param teacherCache a folder of precomputed teacher targets ({@code cache-teachers} fills it), or
 *     null to run the teachers live
 * @param signals per capability, the attention signal and its loss
 * @param mixing the teacher mixing matrix
 * @param lossWeights static weights and whether they adapt during training
 * @param projection how task gradients combine
 * @param optimizer AdamW's settings and the peak learning rate
 * @param schedule the learning-rate schedule
 * @param training epochs, micro-batch, accumulation, order, freezing
 * @param checkpoints how often checkpoints are written and which are kept
 */
public record Recipe(
    long seed,
    String device,
    int threads,
    String output,
    Data data,
    Tokenizer tokenizer,
    Model student,
    Map<Capability, Model> teachers,
    String teacherCache,
    Map<Capability, Signal> signals,
    Mixing mixing,
    LossWeights lossWeights,
    Projection projection,
    Optimizer optimizer,
    Schedule schedule,
    Training training,
    Checkpoints checkpoints) {

  /**
   * @param file the dataset (the training JSON format)
   * @param root the folder image paths are relative to, or null for the file's folder
   * @param unknownTypes {@code error} or the capability unknown question types fall back to
   * @param images {@code require_readable} or {@code text_only}
   */
  public record Data(String file, String root, String unknownTypes, String images) {}

  /**
   * @param kind {@code word} (a drivekd word vocabulary), {@code huggingface} ({@code
   *     tokenizer.json}) or {@code from_data} (a word vocabulary built from the data)
   * @param path the file, or null for {@code from_data}
   */
  public record Tokenizer(String kind, String path) {}

  /**
   * @param kind {@code preset} (a fresh native model), {@code folder} (native {@code config.json} +
   *     {@code model.safetensors}) or {@code torchscript} (a {@code .pt} with its descriptor)
   * @param source the preset's name or the path
   * @param seed the fresh model's seed (presets only)
   * @param init {@code preset} (the preset's initializer range) or {@code fan_in} (presets only)
   * @param live for a teacher when {@code teachers.cache} is set: run this one live instead of
   *     reading its targets from the cache (e.g. a large reasoning teacher whose full maps are too
   *     big to cache)
   */
  public record Model(String kind, String source, long seed, String init, boolean live) {}

  /**
   * @param layer the layer of a one-layer signal (negative counts from the end), or null
   * @param layersStart the first layer of a grouped range, or null
   * @param layersEnd the last layer of a grouped range (inclusive), or null
   * @param region {@code text_to_vision}, {@code causal_text_to_vision} or {@code full}
   * @param loss {@code mse} or {@code cosine}
   */
  public record Signal(
      Integer layer, Integer layersStart, Integer layersEnd, String region, String loss) {}

  /**
   * @param kind {@code paper}, {@code identity} or {@code rows}
   * @param rows per sample capability the weights of the three teachers (kind {@code rows})
   */
  public record Mixing(String kind, Map<Capability, double[]> rows) {}

  /**
   * @param dynamic whether the weights adapt during training (method.md 3)
   * @param weights the static weights by task: {@code ce}, {@code perception}, {@code reasoning},
   *     {@code planning}
   */
  public record LossWeights(boolean dynamic, Map<String, Double> weights) {}

  /**
   * @param kind {@code agp}, {@code none}, {@code g1}, {@code g2} or {@code pcgrad}
   * @param seed the shuffles' seed, or null for the run's seed
   * @param averageCapabilities stage 2 averages the capabilities' projected gradients
   * @param refreshEvery combine every this many micro-steps of a kind and reuse the combine's loss
   *     multipliers in between (amortised projection); null when not set (1: every micro-step),
   *     left out of the resolved recipe then, so that runs resolved before the key existed resume
   */
  public record Projection(
      String kind,
      Long seed,
      boolean averageCapabilities,
      @JsonInclude(JsonInclude.Include.NON_NULL) Integer refreshEvery) {

    /** Micro-steps per full combine (1 when not set). */
    public int refreshInterval() {
      return refreshEvery == null ? 1 : refreshEvery;
    }
  }

  /**
   * @param learningRate the peak learning rate
   * @param weightDecay AdamW's decoupled weight decay
   * @param beta1 AdamW's beta1
   * @param beta2 AdamW's beta2
   * @param epsilon AdamW's epsilon
   */
  public record Optimizer(
      double learningRate, double weightDecay, double beta1, double beta2, double epsilon) {}

  /**
   * @param kind {@code constant}, {@code linear} or {@code cosine}
   * @param warmupRatio the share of optimizer steps spent warming up
   * @param minRatio the final rate over the peak
   */
  public record Schedule(String kind, double warmupRatio, double minRatio) {}

  /**
   * @param epochs passes over the data
   * @param microBatch samples per forward
   * @param accumulation micro-steps per optimizer step
   * @param shuffle whether each epoch reorders the samples
   * @param freezeVision whether the vision encoder and projector stay fixed
   */
  public record Training(
      int epochs, int microBatch, int accumulation, boolean shuffle, boolean freezeVision) {}

  /**
   * @param every optimizer steps between checkpoints (every epoch end is saved too)
   * @param keepLast newest checkpoints kept, 0 for all
   * @param keepEvery besides those, checkpoints at multiples of this step are kept; 0 for none
   */
  public record Checkpoints(int every, int keepLast, long keepEvery) {}
}
