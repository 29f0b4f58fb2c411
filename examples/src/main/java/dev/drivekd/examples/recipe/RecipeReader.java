package dev.drivekd.examples.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.UnknownTypePolicy;
import dev.drivekd.core.train.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a recipe file (YAML) into a {@link Recipe}: every key checked for type and range, unknown
 * keys refused, {@code ${VAR}} substituted from the environment, defaults filled in (the paper's
 * recipe, mixing, dynamic weights and AGP). Errors are {@link RecipeException}s naming file and
 * key. What needs the models (a layer out of a model's range, teacher and student encodings) is
 * checked when the models are loaded ({@link RecipeRun}).
 */
public final class RecipeReader {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private RecipeReader() {}

  /** Reads {@code file} with the process environment. */
  public static Recipe read(Path file) {
    return read(file, System.getenv());
  }

  /** Reads {@code file} with {@code env} for {@code ${VAR}} substitution. */
  public static Recipe read(Path file, Map<String, String> env) {
    String name = file.toString();
    JsonNode root;
    String text = "";
    try {
      text = Files.readString(file);
      root = YAML.readTree(text);
    } catch (NoSuchFileException e) {
      throw new RecipeException(name, "", "no such file");
    } catch (JsonProcessingException e) {
      throw new RecipeException(
          name,
          "",
          "not valid YAML"
              + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")
              + ": "
              + e.getOriginalMessage().replaceAll("\\s+", " ").strip()
              + (text.contains("${") ? " (inside { } a ${VAR} needs quotes)" : ""));
    } catch (IOException e) {
      throw new RecipeException(name, "", "cannot read the file: " + e.getMessage());
    }
    return parse(name, root, env);
  }

  /** Parses a recipe tree (tests, and recipes built in code). */
  static Recipe parse(String name, JsonNode root, Map<String, String> env) {
    YamlSection r = new YamlSection(name, "", root, env);
    long seed = r.integer("seed", 42, Long.MIN_VALUE, Long.MAX_VALUE);
    String device = r.choice("device", "auto", "auto", "cpu", "gpu");
    int threads = (int) r.integer("threads", 0, 0, 1024);
    String output = r.requiredText("output", "the run folder");
    Recipe.Data data = data(r.requiredSection("data"));
    Recipe.Tokenizer tokenizer = tokenizer(r.requiredSection("tokenizer"));
    Recipe.Model student = model(r.requiredSection("student"), false);
    Map<Capability, Recipe.Model> teachers = new EnumMap<>(Capability.class);
    String cache = null;
    Optional<YamlSection> t = r.section("teachers");
    if (t.isPresent()) {
      YamlSection ts = t.get();
      for (Capability c : Capability.values()) {
        ts.section(c.key()).ifPresent(s -> teachers.put(c, model(s, true)));
      }
      cache = ts.text("cache").orElse(null);
      ts.finish();
      if (cache == null) {
        for (Map.Entry<Capability, Recipe.Model> e : teachers.entrySet()) {
          if (e.getValue().live()) {
            throw ts.error(
                e.getKey().key() + ".live",
                "live chooses between a live teacher and teachers.cache, which is not set");
          }
        }
      }
    }
    Map<Capability, Recipe.Signal> signals = signals(r.section("signals"), teachers);
    Recipe.Mixing mixing = mixing(r.section("mixing"));
    Recipe.LossWeights weights = lossWeights(r.section("loss_weights"));
    Recipe.Projection projection = projection(r.section("projection"));
    Recipe.Optimizer optimizer = optimizer(r.section("optimizer"));
    Recipe.Schedule schedule = schedule(r.section("schedule"));
    Recipe.Training training = training(r.section("training"));
    Recipe.Checkpoints checkpoints =
        r.section("checkpoints")
            .map(
                s -> {
                  int every = (int) s.integer("every", 50, 1, Integer.MAX_VALUE);
                  int keepLast =
                      (int)
                          s.integer(
                              "keep_last", CheckpointStore.DEFAULT_KEEP_LAST, 0, Integer.MAX_VALUE);
                  long keepEvery = s.integer("keep_every", 0, 0, Long.MAX_VALUE);
                  s.finish();
                  return new Recipe.Checkpoints(every, keepLast, keepEvery);
                })
            .orElse(new Recipe.Checkpoints(50, CheckpointStore.DEFAULT_KEEP_LAST, 0));
    r.finish();
    return new Recipe(
        seed,
        device,
        threads,
        output,
        data,
        tokenizer,
        student,
        teachers,
        cache,
        signals,
        mixing,
        weights,
        projection,
        optimizer,
        schedule,
        training,
        checkpoints);
  }

  private static Recipe.Data data(YamlSection s) {
    String file = s.requiredText("file", "the dataset file");
    String root = s.text("root").orElse(null);
    String unknown = s.text("unknown_types").orElse("error");
    try {
      UnknownTypePolicy.parse(unknown);
    } catch (IllegalArgumentException e) {
      throw s.error(
          "unknown_types", "\"" + unknown + "\": error or one of perception, reasoning, planning");
    }
    String images = s.choice("images", "require_readable", "require_readable", "text_only");
    s.finish();
    return new Recipe.Data(file, root, unknown, images);
  }

  private static Recipe.Tokenizer tokenizer(YamlSection s) {
    String kind = s.choice("kind", "word", "word", "huggingface", "from_data");
    String path = s.text("path").orElse(null);
    if (path == null && !kind.equals("from_data")) {
      throw s.error("path", "missing (the " + kind + " tokenizer's file)");
    }
    if (path != null && kind.equals("from_data")) {
      throw s.error("path", "a tokenizer built from the data has no file");
    }
    s.finish();
    return new Recipe.Tokenizer(kind, path);
  }

  private static Recipe.Model model(YamlSection s, boolean teacher) {
    int given =
        (s.has("preset") ? 1 : 0) + (s.has("folder") ? 1 : 0) + (s.has("torchscript") ? 1 : 0);
    if (given != 1) {
      throw s.error("", "give exactly one of preset, folder, torchscript");
    }
    String kind = s.has("preset") ? "preset" : s.has("folder") ? "folder" : "torchscript";
    String source = s.requiredText(kind, kind);
    s.allow("preset", "folder", "torchscript");
    long seed = s.integer("seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
    String init = s.choice("init", "preset", "preset", "fan_in");
    if (!kind.equals("preset") && (s.has("seed") || s.has("init"))) {
      throw s.error(
          s.has("seed") ? "seed" : "init", "only a preset (a fresh model) takes a seed or an init");
    }
    boolean live = teacher && s.bool("live", false);
    s.finish();
    return new Recipe.Model(kind, source, seed, init, live);
  }

  private static Map<Capability, Recipe.Signal> signals(
      Optional<YamlSection> section, Map<Capability, Recipe.Model> teachers) {
    Map<Capability, Recipe.Signal> out = new EnumMap<>(Capability.class);
    // the paper's signals by default
    out.put(Capability.PERCEPTION, new Recipe.Signal(0, null, null, "text_to_vision", "mse"));
    out.put(Capability.REASONING, new Recipe.Signal(null, 0, -2, "full", "mse"));
    out.put(Capability.PLANNING, new Recipe.Signal(-2, null, null, "text_to_vision", "mse"));
    if (section.isPresent()) {
      YamlSection s = section.get();
      for (Capability c : Capability.values()) {
        Optional<YamlSection> one = s.section(c.key());
        if (one.isPresent()) {
          out.put(c, signal(one.get(), out.get(c)));
        }
      }
      s.finish();
    }
    out.keySet().retainAll(teachers.keySet());
    return out;
  }

  private static Recipe.Signal signal(YamlSection s, Recipe.Signal paper) {
    Integer layer = s.optionalInteger("layer").orElse(null);
    double[] layers = s.numbers("layers", 2).orElse(null);
    if (layer != null && layers != null) {
      throw s.error("layers", "give layer (one layer) or layers ([start, end]), not both");
    }
    String region =
        s.choice("region", paper.region(), "text_to_vision", "causal_text_to_vision", "full");
    String loss = s.choice("loss", paper.loss(), "mse", "cosine");
    if (loss.equals("cosine") && region.equals("causal_text_to_vision")) {
      throw s.error("loss", "cosine takes the text_to_vision or full region");
    }
    s.finish();
    if (layer == null && layers == null) {
      return new Recipe.Signal(paper.layer(), paper.layersStart(), paper.layersEnd(), region, loss);
    }
    if (layers != null) {
      for (double d : layers) {
        if (d != Math.rint(d)) {
          throw s.error("layers", "layers are integers, got " + d);
        }
      }
      return new Recipe.Signal(null, (int) layers[0], (int) layers[1], region, loss);
    }
    return new Recipe.Signal(layer, null, null, region, loss);
  }

  private static Recipe.Mixing mixing(Optional<YamlSection> section) {
    if (section.isEmpty()) {
      return new Recipe.Mixing("paper", null);
    }
    YamlSection s = section.get();
    String kind = s.choice("kind", "paper", "paper", "identity", "rows");
    Map<Capability, double[]> rows = null;
    if (kind.equals("rows")) {
      rows = new EnumMap<>(Capability.class);
      for (Capability c : Capability.values()) {
        final Capability cap = c;
        double[] row =
            s.numbers(c.key(), 3)
                .orElseThrow(() -> s.error(cap.key(), "missing (three teacher weights)"));
        for (double w : row) {
          if (!(w >= 0)) {
            throw s.error(c.key(), "weights must be >= 0, got " + w);
          }
        }
        rows.put(c, row);
      }
    } else {
      s.allow("perception", "reasoning", "planning");
      for (Capability c : Capability.values()) {
        if (s.has(c.key())) {
          throw s.error(c.key(), "rows are given with kind: rows");
        }
      }
    }
    s.finish();
    return new Recipe.Mixing(kind, rows);
  }

  private static Recipe.LossWeights lossWeights(Optional<YamlSection> section) {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String k : new String[] {"ce", "perception", "reasoning", "planning"}) {
      weights.put(k, 1.0);
    }
    if (section.isEmpty()) {
      return new Recipe.LossWeights(true, weights);
    }
    YamlSection s = section.get();
    boolean dynamic = s.bool("dynamic", true);
    for (String k : weights.keySet()) {
      weights.put(k, s.number(k, 1.0, 0, Double.MAX_VALUE));
    }
    s.finish();
    return new Recipe.LossWeights(dynamic, weights);
  }

  private static Recipe.Projection projection(Optional<YamlSection> section) {
    if (section.isEmpty()) {
      return new Recipe.Projection("agp", null, false, null);
    }
    YamlSection s = section.get();
    String kind = s.choice("kind", "agp", "agp", "none", "g1", "g2", "pcgrad");
    Long seed = s.has("seed") ? s.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : null;
    s.allow("seed");
    boolean average = s.bool("average_capabilities", false);
    Integer refresh =
        s.has("refresh_every") ? (int) s.integer("refresh_every", 1, 1, 1_000_000) : null;
    s.allow("refresh_every");
    s.finish();
    return new Recipe.Projection(kind, seed, average, refresh);
  }

  private static Recipe.Optimizer optimizer(Optional<YamlSection> section) {
    if (section.isEmpty()) {
      return new Recipe.Optimizer(1e-4, 0.0, 0.9, 0.999, 1e-8);
    }
    YamlSection s = section.get();
    Recipe.Optimizer o =
        new Recipe.Optimizer(
            s.number("learning_rate", 1e-4, 0, 10),
            s.number("weight_decay", 0.0, 0, 10),
            s.number("beta1", 0.9, 0, 0.999999),
            s.number("beta2", 0.999, 0, 0.999999),
            s.number("epsilon", 1e-8, 0, 1));
    s.finish();
    return o;
  }

  private static Recipe.Schedule schedule(Optional<YamlSection> section) {
    if (section.isEmpty()) {
      return new Recipe.Schedule("cosine", 0.1, 0.0);
    }
    YamlSection s = section.get();
    Recipe.Schedule o =
        new Recipe.Schedule(
            s.choice("kind", "cosine", "constant", "linear", "cosine"),
            s.number("warmup_ratio", 0.1, 0, 1),
            s.number("min_ratio", 0.0, 0, 1));
    s.finish();
    return o;
  }

  private static Recipe.Training training(Optional<YamlSection> section) {
    if (section.isEmpty()) {
      return new Recipe.Training(1, 1, 4, true, false);
    }
    YamlSection s = section.get();
    Recipe.Training o =
        new Recipe.Training(
            (int) s.integer("epochs", 1, 1, 100_000),
            (int) s.integer("micro_batch", 1, 1, 4096),
            (int) s.integer("accumulation", 4, 1, 4096),
            s.bool("shuffle", true),
            s.bool("freeze_vision", false));
    s.finish();
    return o;
  }
}
