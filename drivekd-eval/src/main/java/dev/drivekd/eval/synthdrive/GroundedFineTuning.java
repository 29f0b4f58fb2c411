package dev.drivekd.eval.synthdrive;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.engine.ParameterGradients;
import dev.drivekd.core.engine.Scalars;
import dev.drivekd.core.loss.NextTokenCrossEntropy;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.listener.ProgressBarListener;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.gradproj.ShuffleRandom;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Fine-tunes a SynthDrive teacher: answer cross-entropy plus {@code weight} times the {@link
 * TagGrounding} term on layer 0, in micro-batches, with PyTorch-exact AdamW on a cosine schedule.
 * This is how the experiment's teachers are made; students train with the {@code
 * DistillationTrainer} and never see the grounding term.
 *
 * @param steps optimizer steps
 * @param batchSize samples per step
 * @param learningRate peak rate (cosine to a tenth, 5 % warm-up)
 * @param groundingWeight weight of the grounding term against cross-entropy's 1
 * @param routingLayer the layer whose answer positions are taught to read the question's tags
 *     ({@link TagGrounding#routingLoss}); negative: no routing term
 * @param routingWeight weight of the routing term
 * @param seed seed of the sample order
 */
public record GroundedFineTuning(
    int steps,
    int batchSize,
    double learningRate,
    double groundingWeight,
    int routingLayer,
    double routingWeight,
    long seed) {

  /** Grounding only, no routing term. */
  public GroundedFineTuning(
      int steps, int batchSize, double learningRate, double groundingWeight, long seed) {
    this(steps, batchSize, learningRate, groundingWeight, -1, 0, seed);
  }

  /** What the fine-tuning measured. */
  public record Result(
      double firstLoss,
      double lastLoss,
      double lastCrossEntropy,
      double lastOnCellShare,
      double seconds) {}

  /** Trains {@code model} on {@code data} and reports to {@code progress} (null: silent). */
  public Result train(
      VisionLanguageModel model,
      BatchEncoder encoder,
      DrivingDataset data,
      TagGrounding grounding,
      PrintStream progress) {
    List<Parameter> parameters = model.trainableParameters();
    PyTorchAdamW optimizer = PyTorchAdamW.builder().build();
    LrSchedule schedule = LrSchedule.cosine(learningRate, steps, Math.max(1, steps / 20), 0.1);
    NextTokenCrossEntropy crossEntropy = NextTokenCrossEntropy.create();
    ShuffleRandom random = new ShuffleRandom(seed);
    List<Integer> order = new ArrayList<>();
    int cursor = 0;
    double first = Double.NaN;
    double last = Double.NaN;
    double lastCe = Double.NaN;
    double share = Double.NaN;
    long began = System.nanoTime();
    for (int step = 1; step <= steps; step++) {
      List<DrivingSample> batchSamples = new ArrayList<>();
      while (batchSamples.size() < batchSize) {
        if (cursor == order.size()) {
          order = random.shuffled(IntStream.range(0, data.size()).boxed().toList());
          cursor = 0;
        }
        batchSamples.add(data.get(order.get(cursor++)));
      }
      try (NDManager manager = NDManager.newBaseManager(model.device())) {
        VlmBatch batch =
            encoder.encodeSamples(manager, batchSamples, BatchEncoder.PromptMode.TRAINING);
        ParameterGradients.zero(parameters);
        float lossValue;
        float ceValue;
        try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
          boolean routed = routingLayer >= 0 && routingWeight > 0;
          ModelOutput out =
              model.forward(
                  batch,
                  routed
                      ? ForwardRequest.attentionOf(0, routingLayer)
                      : ForwardRequest.attentionOf(0),
                  true);
          NDArray ce = crossEntropy.evaluate(out.logits(), batch.layout().labels(manager));
          NDArray map = out.attention().headAveraged(0);
          NDArray ground = grounding.loss(map, batch, manager);
          NDArray total = ground == null ? ce : ce.add(Scalars.mul(ground, groundingWeight));
          NDArray route =
              routed
                  ? grounding.routingLoss(
                      out.attention().headAveraged(routingLayer), batch, manager)
                  : null;
          total = route == null ? total : total.add(Scalars.mul(route, routingWeight));
          lossValue = total.getFloat();
          ceValue = ce.getFloat();
          if (step == steps) {
            share = grounding.onCellShare(map, batch);
          }
          collector.backward(total);
        }
        if (!Float.isFinite(lossValue)) {
          throw new IllegalStateException(
              "grounded fine-tuning: loss " + lossValue + " at step " + step);
        }
        double rate = schedule.rateAtOptimizerStep(step);
        for (Parameter p : parameters) {
          try (NDArray grad = p.getArray().getGradient()) { // after the backward: the real one
            optimizer.update(p.getId(), p.getArray(), grad, rate);
          }
        }
        first = Double.isNaN(first) ? lossValue : first;
        last = lossValue;
        lastCe = ceValue;
      }
      if (progress != null && (step % 10 == 0 || step == steps)) {
        double seconds = (System.nanoTime() - began) / 1e9;
        double perSecond = step * batchSize / seconds;
        double eta = (steps - step) * seconds / step;
        progress.print("\r" + ProgressBarListener.render(step, steps, last, perSecond, eta, 30));
        progress.flush();
      }
    }
    if (progress != null) {
      progress.println();
    }
    return new Result(first, last, lastCe, share, (System.nanoTime() - began) / 1e9);
  }
}
