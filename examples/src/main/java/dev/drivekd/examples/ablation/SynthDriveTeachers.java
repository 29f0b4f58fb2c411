package dev.drivekd.examples.ablation;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordPreTokenizer;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.eval.synthdrive.GroundedFineTuning;
import dev.drivekd.eval.synthdrive.SynthDrive;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import dev.drivekd.eval.synthdrive.TagGrounding;
import dev.drivekd.teachers.cache.WeightsFingerprint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The held-out ablation's three capability teachers: one {@code teacher-small} per capability,
 * fine-tuned on that capability's questions of a large SynthDrive training split with {@link
 * GroundedFineTuning} (answer cross-entropy, layer-0 tag grounding, and answer-to-tag routing in
 * the middle layer), saved in one folder with the shared word tokenizer and a manifest that names
 * the generator's fingerprint, the seeds and every setting. A folder is only ever used for the
 * generator settings it was made for.
 *
 * <pre>
 * teachers/
 *   teachers.json          manifest (generator fingerprint, data seed, recipe, weights fingerprints)
 *   tokenizer.json         the word tokenizer of teachers and students
 *   perception/ reasoning/ planning/   config.json + model.safetensors
 * </pre>
 */
public final class SynthDriveTeachers {

  private static final Logger LOG = LoggerFactory.getLogger(SynthDriveTeachers.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** The manifest's file name. */
  public static final String MANIFEST = "teachers.json";

  /** The tokenizer's file name. */
  public static final String TOKENIZER = "tokenizer.json";

  /**
   * How the teachers are made.
   *
   * @param dataSeed the SynthDrive seed of the training split
   * @param trainScenes scenes of the training split (three questions each, one per capability)
   * @param preset the teachers' native preset
   * @param initializerRange standard deviation of the teachers' initialisation (the fan-in rule,
   *     {@link InternVlConfig#fanInStd()}, not the preset's 0.02)
   * @param steps optimizer steps per teacher
   * @param batchSize samples per step
   * @param learningRate peak rate (cosine)
   * @param groundingWeight weight of the layer-0 grounding term
   * @param routingWeight weight of the middle layer's answer-to-tag routing term (0: none)
   * @param seed seed of the teachers' initialisation and sample order
   */
  public record Recipe(
      long dataSeed,
      int trainScenes,
      String preset,
      double initializerRange,
      int steps,
      int batchSize,
      double learningRate,
      double groundingWeight,
      double routingWeight,
      long seed) {

    /**
     * The recipe of the shipped teachers: 20,000 training scenes (each teacher sees about 25,600 of
     * its capability's 20,000 questions, so it cannot get by on memorising them), fan-in
     * initialisation, 800 steps of 32.
     */
    public static Recipe defaults() {
      String preset = "teacher-small";
      double std = InternVlConfig.preset(preset).fanInStd();
      return new Recipe(1, 20_000, preset, std, 800, 32, 3e-3, 1.0, 1.0, 5);
    }
  }

  /**
   * What a teacher folder records about itself.
   *
   * @param generator the SynthDrive fingerprint the teachers were made for
   * @param recipe how they were made
   * @param tokenizer the tokenizer's identity
   * @param weights per capability key, the weights fingerprint of its teacher
   * @param seconds per capability key, the fine-tuning's wall time
   * @param lastCrossEntropy per capability key, the cross-entropy of the last step
   */
  public record Manifest(
      String generator,
      Recipe recipe,
      String tokenizer,
      Map<String, String> weights,
      Map<String, Double> seconds,
      Map<String, Double> lastCrossEntropy) {}

  private SynthDriveTeachers() {}

  /** The word tokenizer of a SynthDrive dataset: every tag one token (one per tagged cell). */
  public static WordTokenizer tokenizer(SynthDrive synth, DrivingDataset words) {
    List<String> markers = new ArrayList<>(WordPreTokenizer.DEFAULT_MARKERS);
    markers.addAll(synth.tagMarkers());
    return WordTokenizer.builder().optMarkers(markers).addDataset(words).build();
  }

  /**
   * Makes the three teachers into {@code dir} (which must not hold teachers yet).
   *
   * @param progress where each teacher's progress bar goes (null: none)
   */
  public static Manifest train(
      Path dir, SynthDriveConfig config, Recipe recipe, PrintStream progress) throws IOException {
    if (Files.exists(dir.resolve(MANIFEST))) {
      throw new IllegalArgumentException(
          dir + " already holds teachers (" + MANIFEST + "); choose a new folder");
    }
    Files.createDirectories(dir);
    SynthDrive synth = new SynthDrive(config, recipe.dataSeed());
    Path dataDir = dir.resolve("data");
    Path file = synth.write(dataDir, SynthDrive.Split.TRAIN, recipe.trainScenes());
    DrivingDataset train = DrivingDatasetReader.builder().optDataRoot(dataDir).build().read(file);
    WordTokenizer tokenizer = tokenizer(synth, train);
    tokenizer.save(dir.resolve(TOKENIZER));
    TagGrounding grounding = new TagGrounding(synth, tokenizer);
    Map<String, String> weights = new LinkedHashMap<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    Map<String, Double> lastCe = new LinkedHashMap<>();
    InternVlConfig modelConfig =
        InternVlConfig.preset(recipe.preset())
            .withTokenizer(tokenizer.identity())
            .withInitializerRange(recipe.initializerRange());
    int middle = modelConfig.language().numHiddenLayers() / 2 - 1;
    for (Capability c : Capability.values()) {
      List<DrivingSample> own = new ArrayList<>();
      for (DrivingSample s : train.samples()) {
        if (s.capability() == c) {
          own.add(s);
        }
      }
      DrivingDataset split = new DrivingDataset(train.sourceFile(), own, List.of());
      LOG.info(
          "{} teacher: {} on {} questions, {} steps of {}",
          c.key(),
          recipe.preset(),
          split.size(),
          recipe.steps(),
          recipe.batchSize());
      try (InternVlModel teacher =
          InternVlModel.create(modelConfig, Device.cpu(), recipe.seed() + c.ordinal())) {
        BatchEncoder encoder = encoder(tokenizer, teacher);
        GroundedFineTuning.Result r =
            new GroundedFineTuning(
                    recipe.steps(),
                    recipe.batchSize(),
                    recipe.learningRate(),
                    recipe.groundingWeight(),
                    middle,
                    recipe.routingWeight(),
                    recipe.seed() + c.ordinal())
                .train(teacher, encoder, split, grounding, progress);
        teacher.save(dir.resolve(c.key()));
        weights.put(c.key(), WeightsFingerprint.of(teacher));
        seconds.put(c.key(), r.seconds());
        lastCe.put(c.key(), r.lastCrossEntropy());
        LOG.info("{} teacher: {}", c.key(), r);
      }
    }
    Manifest manifest =
        new Manifest(config.fingerprint(), recipe, tokenizer.identity(), weights, seconds, lastCe);
    JSON.writeValue(dir.resolve(MANIFEST).toFile(), manifest);
    return manifest;
  }

  /**
   * Reads a teacher folder's manifest and checks that it was made for {@code config}.
   *
   * @throws IllegalArgumentException naming the folder and both fingerprints when it was made for
   *     other generator settings or version, or when it is not a teacher folder
   */
  public static Manifest manifest(Path dir, SynthDriveConfig config) throws IOException {
    Path file = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          dir
              + " holds no SynthDrive teachers (no "
              + MANIFEST
              + "); make them with"
              + " `drivekd demo --train-teachers "
              + dir
              + "`");
    }
    Manifest m = JSON.readValue(file.toFile(), Manifest.class);
    if (!config.fingerprint().equals(m.generator())) {
      throw new IllegalArgumentException(
          file
              + ": these teachers were made for SynthDrive "
              + m.generator()
              + ", this run generates "
              + config.fingerprint()
              + "; make teachers for it with `drivekd demo --train-teachers DIR`");
    }
    return m;
  }

  /** Loads the teacher of {@code capability} from a checked folder. */
  public static InternVlModel load(Path dir, Capability capability, Device device)
      throws IOException {
    return InternVlModel.load(dir.resolve(capability.key()), device);
  }

  /** The encoder of a model with {@code tokenizer}. */
  public static BatchEncoder encoder(WordTokenizer tokenizer, InternVlModel model) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(model.card().imageSize()))
        .setModel(model.card())
        .build();
  }

  /** Checks each loaded teacher's weights against the manifest's fingerprints. */
  static void checkWeights(Manifest m, Map<Capability, InternVlModel> teachers, Path dir) {
    for (Map.Entry<Capability, InternVlModel> e : teachers.entrySet()) {
      String fp = WeightsFingerprint.of(e.getValue());
      String want = m.weights().get(e.getKey().key());
      if (!fp.equals(want)) {
        throw new IllegalArgumentException(
            dir.resolve(e.getKey().key())
                + ": the weights' fingerprint "
                + fp
                + " is not the manifest's "
                + want
                + "; the folder was changed after the teachers were made");
      }
    }
  }
}
