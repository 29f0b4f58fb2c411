package dev.drivekd.core.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.drivekd.core.train.checkpoint.Checkpoint;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import dev.drivekd.core.train.checkpoint.ConfigurationDiff;
import dev.drivekd.core.train.checkpoint.RandomStates;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.checkpoint.StepCounters;
import dev.drivekd.core.train.checkpoint.StudentWeights;
import dev.drivekd.core.train.optimizer.PyTorchAdamW;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.gradproj.ShuffleRandom;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's checkpoints: what the trainer saves (counters, student weights, AdamW moments, loss
 * weights, accumulation, the data-order and projection-order streams, provenance) and how it
 * resumes (the latest valid checkpoint restored into the same parts, after its configuration has
 * been compared with the run's).
 */
final class RunCheckpoints {

  private static final Logger LOG = LoggerFactory.getLogger(RunCheckpoints.class);
  private static final String DATA_ORDER = "data-order";
  private static final String DATA_ORDER_NOW = "data-order-now";
  private static final String PROJECTION_ORDER = "projection-order";

  /** The amortised projection's reused multipliers (absent when every micro-step combines). */
  private static final String PROJECTION_COEFFICIENTS = "projection-coefficients";

  private static final String DATA_FINGERPRINT = "data.fingerprint";

  private final CheckpointStore store;
  private final int everyOptimizerSteps;
  private final Set<String> allowedChanges;
  private final NDManager manager;
  private final List<Pair<String, Parameter>> named;
  private final PyTorchAdamW optimizer;
  private final LossWeighting weighting;
  private final WindowedUpdates updates;
  private final DataOrder dataOrder;
  private final ShuffleRandom projectionOrder;
  private final CoefficientReuse reuse;
  private Checkpoint restored;

  RunCheckpoints(
      CheckpointStore store,
      int everyOptimizerSteps,
      Set<String> allowedChanges,
      NDManager manager,
      List<Pair<String, Parameter>> named,
      PyTorchAdamW optimizer,
      LossWeighting weighting,
      WindowedUpdates updates,
      DataOrder dataOrder,
      ShuffleRandom projectionOrder,
      CoefficientReuse reuse) {
    this.store = store;
    this.everyOptimizerSteps = everyOptimizerSteps;
    this.allowedChanges = Set.copyOf(allowedChanges);
    this.manager = manager;
    this.named = named;
    this.optimizer = optimizer;
    this.weighting = weighting;
    this.updates = updates;
    this.dataOrder = dataOrder;
    this.projectionOrder = projectionOrder;
    this.reuse = reuse;
  }

  /** Whether a checkpoint is due after this optimizer step. */
  boolean due(boolean epochEnd) {
    return epochEnd
        || (everyOptimizerSteps > 0 && updates.optimizerSteps() % everyOptimizerSteps == 0);
  }

  /**
   * Saves the run's state now, between optimizer steps.
   *
   * @param nextSampleInEpoch the position in the epoch's order to continue from (0 at an epoch end)
   */
  void save(RunProvenance provenance, long epoch, long nextSampleInEpoch) {
    try (NDManager scratch = manager.newSubManager()) {
      Checkpoint checkpoint =
          Checkpoint.builder()
              .setCounters(
                  new StepCounters(
                      epoch, updates.microSteps(), updates.optimizerSteps(), nextSampleInEpoch))
              .setStudentWeights(StudentWeights.of(named))
              .setProvenance(provenance)
              .optOptimizer(optimizer.exportState(scratch, named))
              .optLossWeighting(weighting.exportState())
              .optAccumulation(updates.exportAccumulation())
              .optRandomStates(randomStates())
              .build();
      Path saved = store.save(checkpoint);
      LOG.info("checkpoint {} saved", saved);
    }
  }

  /**
   * The generators' states, and the amortised projection's multipliers: like a generator, what a
   * resumed run must hold to take the steps the uninterrupted run takes.
   */
  private RandomStates randomStates() {
    RandomStates states =
        RandomStates.empty()
            .withLongs(DATA_ORDER, dataOrder.epochStartState())
            .withLongs(DATA_ORDER_NOW, dataOrder.state())
            .withLongs(PROJECTION_ORDER, projectionOrder.state());
    return reuse.enabled()
        ? states.withBytes(PROJECTION_COEFFICIENTS, reuse.exportState())
        : states;
  }

  /**
   * Restores the latest valid checkpoint into the student, optimizer, loss weights, accumulation
   * and random streams.
   *
   * @param current this run's provenance, whose configuration must equal the checkpoint's
   * @return its counters, or empty when the store has none (a fresh start)
   * @throws IllegalArgumentException naming the differing keys when the configurations differ in a
   *     key not allowed by {@code optResumeAllowing}
   */
  Optional<StepCounters> resume(RunProvenance current) {
    Optional<Checkpoint> found = store.latestValid(manager);
    if (found.isEmpty()) {
      LOG.info("no checkpoint in {}; training from the start", store.directory());
      return Optional.empty();
    }
    Checkpoint c = found.get();
    String source =
        store
            .directory()
            .resolve(CheckpointStore.folderName(c.counters().optimizerStep()))
            .toString();
    requireSameConfiguration(c.provenance(), current, source);
    StudentWeights.copyInto(named, c.studentWeights(), source);
    c.optimizer().ifPresent(state -> optimizer.importState(state, named));
    c.lossWeighting().ifPresent(weighting::restore);
    c.accumulation().ifPresent(updates::restoreAccumulation);
    dataOrder.restore(
        c.randomStates().longState(DATA_ORDER), c.randomStates().longState(DATA_ORDER_NOW));
    projectionOrder.restore(c.randomStates().longState(PROJECTION_ORDER));
    if (reuse.enabled()) {
      // a run that combined every micro-step (a change the caller allowed) saved none: each kind
      // combines on its first micro-step
      c.randomStates()
          .bytes(PROJECTION_COEFFICIENTS)
          .ifPresent(state -> reuse.restore(state, named.size(), source));
    }
    // the optimizer copies the moments at its first update: the arrays stay open until close
    restored = c;
    LOG.info("resumed from {} at optimizer step {}", source, c.counters().optimizerStep());
    return Optional.of(c.counters());
  }

  private void requireSameConfiguration(RunProvenance saved, RunProvenance now, String source) {
    List<ConfigurationDiff.Change> changes =
        new ArrayList<>(ConfigurationDiff.between(saved.recipe(), now.recipe()));
    if (!saved.dataFingerprint().equals(now.dataFingerprint())) {
      changes.add(
          new ConfigurationDiff.Change(
              DATA_FINGERPRINT, saved.dataFingerprint(), now.dataFingerprint()));
    }
    saved
        .seeds()
        .forEach(
            (k, v) -> {
              Long mine = now.seeds().get(k);
              if (!v.equals(mine)) {
                changes.add(
                    new ConfigurationDiff.Change(
                        "seeds." + k, String.valueOf(v), String.valueOf(mine)));
              }
            });
    if (!saved.versions().equals(now.versions())) {
      LOG.warn("resuming {} made with {} under {}", source, saved.versions(), now.versions());
    }
    List<ConfigurationDiff.Change> refused = ConfigurationDiff.notAllowed(changes, allowedChanges);
    if (!refused.isEmpty()) {
      throw new IllegalArgumentException(
          "cannot resume from "
              + source
              + ": this run's configuration differs from the checkpoint's in "
              + refused.stream().map(Object::toString).collect(Collectors.joining("; "))
              + ". Resume with the checkpoint's configuration, or allow these keys with"
              + " optResumeAllowing("
              + refused.stream().map(ch -> "\"" + ch.key() + "\"").collect(Collectors.joining(", "))
              + ")");
    }
    for (ConfigurationDiff.Change allowed : changes) {
      LOG.warn("resuming {} under a changed configuration (allowed): {}", source, allowed);
    }
  }

  /** Releases the restored checkpoint's arrays (the optimizer has copied them by then). */
  void close() {
    if (restored != null) {
      restored.closeArrays();
    }
  }
}
