package dev.drivekd.examples.recipe;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.drivekd.core.attention.AttentionSignal;
import dev.drivekd.core.attention.LayerIndexException;
import dev.drivekd.core.attention.LayerRange;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.data.UnknownTypePolicy;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.loss.AttentionLoss;
import dev.drivekd.core.loss.CapabilitySignalLoss;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.HuggingFaceTokenizerAdapter;
import dev.drivekd.core.text.Tokenizer;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.checkpoint.DurableFiles;
import dev.drivekd.core.train.weighting.LossWeighting;
import dev.drivekd.core.train.weighting.MixingMatrix;
import dev.drivekd.core.train.weighting.TaskKeys;
import dev.drivekd.gradproj.GradientProjection;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;
import dev.drivekd.teachers.panel.TeacherPanel;
import dev.drivekd.teachers.torchscript.TorchScriptVlm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link Recipe} names, built: the device, the data, the tokenizer and encoder, the student,
 * the teachers (each distinct source loaded once), the distillation recipe with its layers checked
 * against the models (errors name the recipe key), and the trainer's settings. Closing it closes
 * the models.
 */
public final class RecipeRun implements AutoCloseable {

  /** The copy of the recipe file in the run folder. */
  public static final String RECIPE_COPY = "recipe.yaml";

  /** The recipe as resolved (defaults filled in, variables substituted), in the run folder. */
  public static final String RESOLVED = "recipe.resolved.json";

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .setPropertyNamingStrategy(
              com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

  private final String file;
  private final Recipe recipe;
  private final Device device;
  private final DrivingDataset dataset;
  private final Tokenizer tokenizer;
  private final VisionLanguageModel student;
  private final Map<Capability, VisionLanguageModel> teachers;
  private final List<VisionLanguageModel> owned = new ArrayList<>();
  private final BatchEncoder encoder;
  private final DistillationRecipe distillation;

  private RecipeRun(String file, Recipe recipe) throws IOException {
    this.file = file;
    this.recipe = recipe;
    if (recipe.threads() > 0) {
      JniUtils.setNumThreads(recipe.threads());
    }
    this.device = device(recipe.device());
    this.dataset = readData(recipe.data());
    this.tokenizer = tokenizer(recipe.tokenizer(), dataset);
    try {
      this.student = model("student", recipe.student(), true);
      // each distinct source once; cached teachers are loaded too (their cards check the cache)
      Map<String, VisionLanguageModel> bySource = new LinkedHashMap<>();
      Map<Capability, VisionLanguageModel> roles = new EnumMap<>(Capability.class);
      for (Map.Entry<Capability, Recipe.Model> e : recipe.teachers().entrySet()) {
        Recipe.Model m = e.getValue();
        String source = m.kind() + ":" + m.source() + ":" + m.seed() + ":" + m.init();
        VisionLanguageModel teacher = bySource.get(source);
        if (teacher == null) {
          teacher = model("teachers." + e.getKey().key(), m, false);
          bySource.put(source, teacher);
        }
        roles.put(e.getKey(), teacher);
      }
      this.teachers = roles;
      this.encoder =
          BatchEncoder.builder()
              .setTokenizer(tokenizer)
              .setImagePipeline(ImagePipeline.imageNet(student.card().imageSize()))
              .setModel(student.card())
              .build();
      this.distillation = distillationRecipe();
    } catch (RuntimeException | IOException e) {
      close();
      throw e;
    }
  }

  /** Builds everything {@code recipe} (read from {@code file}) names. */
  public static RecipeRun open(String file, Recipe recipe) throws IOException {
    return new RecipeRun(file, recipe);
  }

  /** The recipe. */
  public Recipe recipe() {
    return recipe;
  }

  /** The device models live on. */
  public Device device() {
    return device;
  }

  /** The training data. */
  public DrivingDataset dataset() {
    return dataset;
  }

  /** The tokenizer of student and teachers. */
  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The student. */
  public VisionLanguageModel student() {
    return student;
  }

  /** The teacher of each capability that has one. */
  public Map<Capability, VisionLanguageModel> teachers() {
    return teachers;
  }

  /** The student's encoder. */
  public BatchEncoder encoder() {
    return encoder;
  }

  /** The capabilities whose targets come from {@code teachers.cache} (none without a cache). */
  public java.util.Set<Capability> cachedCapabilities() {
    java.util.Set<Capability> out = java.util.EnumSet.noneOf(Capability.class);
    if (recipe.teacherCache() != null) {
      recipe
          .teachers()
          .forEach(
              (c, m) -> {
                if (!m.live()) {
                  out.add(c);
                }
              });
    }
    return out;
  }

  /**
   * A precomputer of the recipe's cached teacher targets: its teachers, signals and student
   * encoding, restricted to {@link #cachedCapabilities()} ({@code cache-teachers} and the Spark job
   * build theirs here).
   */
  public TeacherTargetPrecomputer.Builder teacherTargets() {
    return TeacherTargetPrecomputer.builder()
        .setTeachers(TeacherPanel.of(teachers()))
        .optRecipe(distillation())
        .setEncoder(encoder())
        .setStudent(student().card())
        .optCapabilities(cachedCapabilities());
  }

  /** The signals and losses per capability. */
  public DistillationRecipe distillation() {
    return distillation;
  }

  /** The teacher mixing matrix. */
  public MixingMatrix mixing() {
    Recipe.Mixing m = recipe.mixing();
    return switch (m.kind()) {
      case "identity" -> MixingMatrix.identity();
      case "rows" ->
          MixingMatrix.of(
              m.rows().get(Capability.PERCEPTION),
              m.rows().get(Capability.REASONING),
              m.rows().get(Capability.PLANNING));
      default -> MixingMatrix.paperDefault();
    };
  }

  /** Static or dynamic loss weights keyed by task. */
  public LossWeighting lossWeighting() {
    Map<String, Double> byTask = new LinkedHashMap<>();
    byTask.put(TaskKeys.CE, recipe.lossWeights().weights().get("ce"));
    for (Capability c : recipe.teachers().keySet()) {
      byTask.put(TaskKeys.of(c), recipe.lossWeights().weights().get(c.key()));
    }
    return recipe.lossWeights().dynamic()
        ? LossWeighting.dynamic(byTask)
        : LossWeighting.staticWeights(byTask);
  }

  /** How the task gradients combine. */
  public GradientProjection projection() {
    Recipe.Projection p = recipe.projection();
    GradientProjection g =
        switch (p.kind()) {
          case "none" -> GradientProjection.none();
          case "g1" -> GradientProjection.stage1Only();
          case "g2" -> GradientProjection.stage2Only();
          case "pcgrad" -> GradientProjection.pcgrad();
          default -> GradientProjection.agp();
        };
    return g.optSeed(p.seed() != null ? p.seed() : recipe.seed())
        .optAverageCapabilities(p.averageCapabilities())
        .optRefreshEvery(p.refreshInterval());
  }

  /**
   * The recipe as resolved, as JSON (what the run folder keeps and a resume compares), keys in the
   * recipe file's spelling ({@code optimizer.learning_rate}, {@code teachers.perception}).
   */
  public static JsonNode resolved(Recipe recipe) {
    return lowerCapabilities(JSON.valueToTree(recipe));
  }

  private static JsonNode lowerCapabilities(JsonNode node) {
    if (node.isObject()) {
      com.fasterxml.jackson.databind.node.ObjectNode out = JSON.createObjectNode();
      node.fields()
          .forEachRemaining(
              e -> {
                String key = e.getKey();
                for (Capability c : Capability.values()) {
                  if (key.equals(c.name())) {
                    key = c.key();
                  }
                }
                out.set(key, lowerCapabilities(e.getValue()));
              });
      return out;
    }
    return node;
  }

  /**
   * Writes the resolved recipe, then a copy of the recipe file, into {@code runDir}, each
   * atomically: a run killed here leaves either no run (an empty folder) or a whole resolved form
   * that {@code --resume} reads.
   */
  public static void record(Path recipeFile, Recipe recipe, Path runDir) throws IOException {
    Files.createDirectories(runDir);
    DurableFiles.writeAtomically(
        runDir.resolve(RESOLVED), JSON.writeValueAsBytes(resolved(recipe)));
    DurableFiles.writeAtomically(runDir.resolve(RECIPE_COPY), Files.readAllBytes(recipeFile));
  }

  /**
   * The dotted keys whose values differ between two resolved recipes, each as {@code key: old ->
   * new}.
   */
  public static List<String> differences(JsonNode before, JsonNode now) {
    Map<String, String> a = new TreeMap<>();
    Map<String, String> b = new TreeMap<>();
    flatten("", before, a);
    flatten("", now, b);
    List<String> out = new ArrayList<>();
    java.util.Set<String> keys = new java.util.TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    for (String k : keys) {
      String x = a.get(k);
      String y = b.get(k);
      if (x == null ? y != null : !x.equals(y)) {
        out.add(k + ": " + x + " -> " + y);
      }
    }
    return out;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e ->
                  flatten(
                      prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(),
                      e.getValue(),
                      out));
    } else {
      out.put(prefix, node.toString());
    }
  }

  private Device device(String kind) {
    return switch (kind) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        Device d = ComputeDevice.select();
        if (!d.isGpu()) {
          throw new RecipeException(
              file, "device", "gpu asked, but libtorch sees no GPU (see README: GPU set-up)");
        }
        yield d;
      }
      default -> ComputeDevice.select();
    };
  }

  private DrivingDataset readData(Recipe.Data d) {
    Path f = Path.of(d.file());
    if (!Files.isRegularFile(f)) {
      throw new RecipeException(file, "data.file", "no such file: " + f.toAbsolutePath());
    }
    DrivingDatasetReader.Builder b =
        DrivingDatasetReader.builder()
            .optUnknownTypePolicy(UnknownTypePolicy.parse(d.unknownTypes()))
            .optImageCheckPolicy(
                d.images().equals("text_only")
                    ? ImageCheckPolicy.TEXT_ONLY
                    : ImageCheckPolicy.REQUIRE_READABLE);
    if (d.root() != null) {
      b.optDataRoot(Path.of(d.root()));
    }
    return b.build().read(f);
  }

  private Tokenizer tokenizer(Recipe.Tokenizer t, DrivingDataset data) {
    if (t.kind().equals("from_data")) {
      return WordTokenizer.builder().addDataset(data).build();
    }
    Path p = Path.of(t.path());
    if (!Files.isRegularFile(p)) {
      throw new RecipeException(file, "tokenizer.path", "no such file: " + p.toAbsolutePath());
    }
    if (t.kind().equals("word")) {
      return WordTokenizer.load(p);
    }
    return HuggingFaceTokenizerAdapter.builder().setTokenizerPath(p).build();
  }

  private VisionLanguageModel model(String key, Recipe.Model m, boolean trainable)
      throws IOException {
    VisionLanguageModel model;
    switch (m.kind()) {
      case "preset" -> {
        InternVlConfig preset;
        try {
          preset = InternVlConfig.preset(m.source());
        } catch (IllegalArgumentException e) {
          throw new RecipeException(file, key + ".preset", e.getMessage());
        }
        InternVlConfig config = preset.withTokenizer(tokenizer.identity());
        if (m.init().equals("fan_in")) {
          config = config.withInitializerRange(config.fanInStd());
        }
        model = InternVlModel.create(config, device, m.seed());
      }
      case "folder" -> {
        Path dir = Path.of(m.source());
        if (!Files.isRegularFile(dir.resolve(InternVlModel.CONFIG_FILE))) {
          throw new RecipeException(
              file,
              key + ".folder",
              dir.toAbsolutePath() + " holds no " + InternVlModel.CONFIG_FILE);
        }
        model = InternVlModel.load(dir, device);
      }
      default -> {
        Path pt = Path.of(m.source());
        if (!Files.isRegularFile(pt)) {
          throw new RecipeException(
              file, key + ".torchscript", "no such file: " + pt.toAbsolutePath());
        }
        model = TorchScriptVlm.load(pt, trainable);
      }
    }
    owned.add(model);
    if (!model.card().tokenizer().equals(tokenizer.identity())) {
      throw new RecipeException(
          file,
          key,
          model.card().name()
              + " was made for tokenizer "
              + model.card().tokenizer()
              + ", the recipe's tokenizer is "
              + tokenizer.identity());
    }
    return model;
  }

  private DistillationRecipe distillationRecipe() {
    Map<Capability, CapabilitySignalLoss> losses = new EnumMap<>(Capability.class);
    ModelCard s = student.card();
    for (Map.Entry<Capability, Recipe.Signal> e : recipe.signals().entrySet()) {
      Capability c = e.getKey();
      Recipe.Signal sig = e.getValue();
      ModelCard t = teachers.get(c).card();
      try {
        t.requireSameSequences(s);
      } catch (IllegalArgumentException ex) {
        throw new RecipeException(file, "teachers." + c.key(), ex.getMessage());
      }
      String key =
          sig.layer() != null ? "signals." + c.key() + ".layer" : "signals." + c.key() + ".layers";
      AttentionSignal signal =
          sig.layer() != null
              ? AttentionSignal.atLayer(sig.layer())
              : AttentionSignal.intermediate(LayerRange.of(sig.layersStart(), sig.layersEnd()));
      List<Integer> specs =
          sig.layer() != null ? List.of(sig.layer()) : List.of(sig.layersStart(), sig.layersEnd());
      for (int spec : specs) {
        for (ModelCard m : List.of(s, t)) {
          if (spec < -m.depth() || spec >= m.depth()) {
            throw new RecipeException(
                file,
                key,
                spec
                    + " is outside "
                    + -m.depth()
                    + ".."
                    + (m.depth() - 1)
                    + " for "
                    + (m == s ? "student " : "teacher ")
                    + m.name()
                    + " ("
                    + m.depth()
                    + " layers; negative counts from the end)");
          }
        }
      }
      try {
        if (signal.layerGroups(s.depth(), t.depth()).isEmpty()) {
          throw new RecipeException(file, key, "selects no layer of student " + s.name());
        }
      } catch (LayerIndexException ex) {
        throw new RecipeException(
            file,
            key,
            ex.getMessage()
                + " (student "
                + s.name()
                + ": "
                + s.depth()
                + " layers, teacher "
                + t.name()
                + ": "
                + t.depth()
                + " layers)");
      }
      losses.put(c, CapabilitySignalLoss.of(TaskKeys.of(c), signal, loss(sig)));
    }
    return DistillationRecipe.of(losses);
  }

  private static AttentionLoss loss(Recipe.Signal s) {
    boolean cosine = s.loss().equals("cosine");
    return switch (s.region()) {
      case "full" -> cosine ? AttentionLoss.fullCosine() : AttentionLoss.fullMse();
      case "causal_text_to_vision" -> AttentionLoss.causalMaskedMse();
      default -> cosine ? AttentionLoss.maskedCosine() : AttentionLoss.maskedMse();
    };
  }

  @Override
  public void close() {
    for (VisionLanguageModel m : owned) {
      m.close();
    }
    owned.clear();
  }
}
