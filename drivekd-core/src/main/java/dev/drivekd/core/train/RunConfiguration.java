package dev.drivekd.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.train.schedule.LrSchedule;
import dev.drivekd.core.train.weighting.LossWeightingState;
import java.util.Locale;

/**
 * Everything that decides a run's result, as one JSON object: the student, each teacher (name,
 * depth, weights fingerprint), the recipe, the mixing matrix, the loss weights (static, dynamic and
 * the balancer's configuration), the projection and its options, AdamW's hyper-parameters, the
 * schedule, epochs, micro-batch, accumulation, data order, freezing and the seed. The run's
 * provenance records it; a resumed run compares it key by key with the checkpoint's ({@link
 * dev.drivekd.core.train.checkpoint.ConfigurationDiff}).
 */
final class RunConfiguration {

  private static final ObjectMapper JSON = new ObjectMapper();

  private RunConfiguration() {}

  /** The configuration of the trainer {@code b} builds, with {@code teachers} (may be null). */
  static ObjectNode of(DistillationTrainer.Builder b, TeacherTargets teachers) {
    ObjectNode c = JSON.createObjectNode();
    c.set("student", card(b.student.card()));
    ObjectNode teacherNodes = c.putObject("teachers");
    if (teachers != null) {
      for (Capability cap : Capability.values()) {
        if (teachers.capabilities().contains(cap)) {
          ObjectNode t = card(teachers.card(cap));
          t.put("weightsFingerprint", teachers.weightsFingerprint(cap).orElse("unknown"));
          teacherNodes.set(cap.key(), t);
        }
      }
    }
    ObjectNode recipe = c.putObject("recipe");
    for (Capability cap : Capability.values()) {
      CapabilitySignalLoss loss = b.recipe.loss(cap);
      recipe.put(cap.key(), loss == null ? "none" : loss.toString());
    }
    ObjectNode mixing = c.putObject("mixing");
    for (Capability cap : Capability.values()) {
      mixing.set(cap.key(), JSON.valueToTree(b.mixing.rawRow(cap)));
    }
    LossWeightingState weights = b.weighting.exportState();
    ObjectNode lossWeights = c.putObject("lossWeights");
    lossWeights.put("dynamic", weights.dynamic());
    lossWeights.set("static", JSON.valueToTree(weights.staticWeights()));
    JsonNode config = weights.config() == null ? null : JSON.valueToTree(weights.config());
    lossWeights.set("config", config);
    c.set("projection", JSON.valueToTree(b.projection.options()));
    ObjectNode optimizer = c.putObject("optimizer");
    optimizer.put("name", "adamw");
    optimizer.put("beta1", b.beta1);
    optimizer.put("beta2", b.beta2);
    optimizer.put("epsilon", b.epsilon);
    optimizer.put("weightDecay", b.weightDecay);
    c.set("schedule", schedule(b.schedule));
    c.put("epochs", b.epochs);
    c.put("microBatch", b.microBatch);
    c.put("accumulation", b.accumulation);
    c.put("shuffle", b.shuffle);
    c.put("freezeVision", b.freezeVision);
    c.put("seed", b.seed);
    return c;
  }

  private static ObjectNode card(ModelCard card) {
    ObjectNode n = JSON.createObjectNode();
    n.put("name", card.name());
    n.put("depth", card.depth());
    n.put("card", card.toString());
    return n;
  }

  private static ObjectNode schedule(LrSchedule s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
    n.put("baseRate", s.baseRate());
    n.put("totalSteps", s.totalSteps());
    n.put("warmupSteps", s.warmupSteps());
    n.put("minRatio", s.minRatio());
    return n;
  }
}
