package dev.drivekd.examples.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.core.engine.ComputeDevice;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.HuggingFaceTokenizerAdapter;
import dev.drivekd.core.text.Tokenizer;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.eval.EvalItem;
import dev.drivekd.eval.Evaluation;
import dev.drivekd.eval.GreedyAnswers;
import dev.drivekd.eval.drivebench.DriveBenchReader;
import dev.drivekd.eval.judge.ChatCompletionsJudge;
import dev.drivekd.eval.judge.JudgeCache;
import dev.drivekd.eval.judge.JudgeEndpoint;
import dev.drivekd.eval.report.AttentionHeatmap;
import dev.drivekd.eval.report.EvaluationReport;
import dev.drivekd.eval.report.LayerStudyReport;
import dev.drivekd.eval.report.ReportFolder;
import dev.drivekd.eval.score.Bootstrap;
import dev.drivekd.eval.study.LayerStudy;
import dev.drivekd.eval.synthdrive.SynthDrive;
import dev.drivekd.eval.synthdrive.SynthDriveConfig;
import dev.drivekd.examples.ablation.SynthDriveTeachers;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code drivekd eval}: scores models on held-out data and writes the report (drivekd-eval). With
 * no data and no model it scores the three shipped SynthDrive teachers on held-out SynthDrive
 * scenes, which shows every part of the report offline.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Answer held-out questions with one or more native models (greedy, KV cache), score them per"
          + " capability with 95%% bootstrap intervals (multiple choice under DriveBench's rule and a"
          + " robust one, yes/no, BLEU-4, ROUGE-L, CIDEr-D, and an LLM judge when one is"
          + " configured), and write report.md, report.json and charts into a new folder.",
      "Without --data/--drivebench and --model: the shipped SynthDrive teachers on held-out"
          + " SynthDrive scenes."
    })
final class EvalCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--data", description = "A dataset in the training format (Drive-KD JSON).")
  Path data;

  @Option(names = "--drivebench", description = "A DriveBench question file (JSON list).")
  Path driveBench;

  @Option(
      names = "--descriptions",
      description = "DriveBench's visual_description.json, for the judge's object descriptions.")
  Path descriptions;

  @Option(
      names = "--root",
      description = "The folder image paths are relative to (default: the data file's folder).")
  Path root;

  @Option(
      names = "--model",
      description =
          "A native model to score, NAME=FOLDER (config.json + model.safetensors);"
              + " repeat for several.")
  Map<String, Path> models = new LinkedHashMap<>();

  @Option(
      names = "--tokenizer",
      description =
          "The models' tokenizer: a drivekd word tokenizer or a Hugging Face tokenizer.json.")
  Path tokenizerFile;

  @Option(
      names = "--scenes",
      defaultValue = "40",
      description = "Held-out SynthDrive scenes when no data is given (default: ${DEFAULT-VALUE}).")
  int scenes;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "48",
      description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--judge",
      description =
          "Score answers with an LLM judge at the endpoint DRIVEKD_JUDGE_URL,"
              + " DRIVEKD_JUDGE_MODEL (key: DRIVEKD_JUDGE_API_KEY or OPENAI_API_KEY).")
  boolean judge;

  @Option(names = "--judge-url", description = "The judge's API root (overrides the environment).")
  URI judgeUrl;

  @Option(names = "--judge-model", description = "The judge model (overrides the environment).")
  String judgeModel;

  @Option(
      names = "--judge-timeout",
      defaultValue = "60",
      description = "Seconds a judge request may take (default: ${DEFAULT-VALUE}).")
  int judgeTimeout;

  @Option(
      names = "--judge-attempts",
      defaultValue = "5",
      description = "Attempts per answer on 429, 5xx and timeouts (default: ${DEFAULT-VALUE}).")
  int judgeAttempts;

  @Option(
      names = "--cache",
      defaultValue = "drivekd-eval-cache",
      description =
          "Where answers and judge replies are kept for reruns (default: ${DEFAULT-VALUE}).")
  Path cache;

  @Option(
      names = "--out",
      description = "The report folder, which must not exist (default: eval-<time>).")
  Path out;

  @Option(
      names = "--bootstrap",
      defaultValue = "2000",
      description = "Bootstrap resamples of the intervals (default: ${DEFAULT-VALUE}).")
  int resamples;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the bootstrap (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--layer-study",
      description = "Also run the four layer-selection studies on this model (a --model NAME).")
  String layerStudy;

  @Option(
      names = "--heatmap",
      split = ",",
      description =
          "STUDENT,TEACHER: also draw the first sample's text-to-vision attention of"
              + " both (layer --heatmap-layer).")
  List<String> heatmap;

  @Option(
      names = "--heatmap-layer",
      defaultValue = "0",
      description =
          "The heat map's layer (negative counts from the end; default: ${DEFAULT-VALUE}).")
  int heatmapLayer;

  @Option(names = "--json", description = "Print report.json on standard output.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (data != null && driveBench != null) {
      throw new IllegalArgumentException("give --data or --drivebench, not both");
    }
    boolean synthDrive = data == null && driveBench == null;
    if (!synthDrive && (models.isEmpty() || tokenizerFile == null)) {
      throw new IllegalArgumentException(
          "--data/--drivebench need --model NAME=FOLDER and --tokenizer FILE");
    }
    Path report =
        out != null
            ? out
            : Path.of(
                "eval-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    if (Files.exists(report)) {
      throw new IllegalArgumentException(
          "report folder " + report.toAbsolutePath() + " already exists: choose another --out");
    }
    Device device = ComputeDevice.select();
    List<EvalItem> items;
    Tokenizer tokenizer;
    String dataName;
    Map<String, Path> folders = new LinkedHashMap<>(models);
    if (synthDrive) {
      if (!EmbeddedData.hasTeachers()) {
        throw new IllegalStateException(
            "this jar ships no SynthDrive teachers; give --data and --model");
      }
      Path teachers =
          EmbeddedData.teachers(Files.createDirectories(cache.resolve("synthdrive-teachers")));
      SynthDriveConfig config = SynthDriveConfig.defaults();
      SynthDriveTeachers.Manifest manifest = SynthDriveTeachers.manifest(teachers, config);
      SynthDrive synth = new SynthDrive(config, manifest.recipe().dataSeed());
      Path dir = cache.resolve("synthdrive-test-" + scenes);
      Path file = synth.write(dir, SynthDrive.Split.TEST, scenes);
      items = EvalItem.of(DrivingDatasetReader.builder().optDataRoot(dir).build().read(file));
      tokenizer =
          tokenizerFile != null
              ? loadTokenizer(tokenizerFile)
              : WordTokenizer.load(teachers.resolve(SynthDriveTeachers.TOKENIZER));
      dataName = "SynthDrive test split, " + scenes + " scenes";
      if (folders.isEmpty()) {
        for (Capability c : Capability.values()) {
          folders.put(c.key() + "-teacher", teachers.resolve(c.key()));
        }
      }
      err.println(
          "drivekd: scoring on "
              + items.size()
              + " held-out SynthDrive questions ("
              + scenes
              + " scenes)");
    } else if (data != null) {
      DrivingDatasetReader.Builder reader = DrivingDatasetReader.builder();
      if (root != null) {
        reader.optDataRoot(root);
      }
      items = EvalItem.of(reader.build().read(data));
      tokenizer = loadTokenizer(tokenizerFile);
      dataName = data.getFileName().toString();
    } else {
      items =
          new DriveBenchReader(root, ImageCheckPolicy.REQUIRE_READABLE, descriptions)
              .read(driveBench);
      tokenizer = loadTokenizer(tokenizerFile);
      dataName = driveBench.getFileName().toString();
    }
    if (layerStudy != null && !folders.containsKey(layerStudy)) {
      throw new IllegalArgumentException(
          "--layer-study " + layerStudy + " is not a model of this run: " + folders.keySet());
    }
    if (heatmap != null && (heatmap.size() != 2 || !folders.keySet().containsAll(heatmap))) {
      throw new IllegalArgumentException(
          "--heatmap takes STUDENT,TEACHER, two models of this run: " + folders.keySet());
    }
    Map<String, InternVlModel> loaded = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> e : folders.entrySet()) {
        loaded.put(e.getKey(), load(e.getKey(), e.getValue(), device));
      }
      Evaluation.Builder evaluation =
          Evaluation.builder(items, cache.resolve("answers"))
              .optBootstrap(new Bootstrap(resamples, seed))
              .optDataName(dataName);
      Map<String, BatchEncoder> encoders = new LinkedHashMap<>();
      for (Map.Entry<String, InternVlModel> e : loaded.entrySet()) {
        BatchEncoder encoder = encoder(tokenizer, e.getValue());
        encoders.put(e.getKey(), encoder);
        evaluation.addModel(
            new NamedAnswers(e.getKey(), GreedyAnswers.of(e.getValue(), encoder, maxNewTokens)));
      }
      if (judge || judgeUrl != null) {
        evaluation.optJudge(
            new ChatCompletionsJudge(endpoint(), new JudgeCache(cache.resolve("judge"))));
      }
      Evaluation.Result result = evaluation.build().run();
      Map<String, ReportFolder.Contents> sections = new LinkedHashMap<>();
      List<DrivingSample> samples = items.stream().map(EvalItem::sample).toList();
      if (layerStudy != null) {
        err.println("drivekd: layer study of " + layerStudy);
        var study =
            new LayerStudy(loaded.get(layerStudy), encoders.get(layerStudy)).run(samples, Map.of());
        sections.put("layer-study", LayerStudyReport.contents(study));
      }
      if (heatmap != null) {
        DrivingSample first =
            samples.stream()
                .filter(s -> !s.images().isEmpty())
                .findFirst()
                .orElseThrow(
                    () -> new IllegalArgumentException("no sample with an image for --heatmap"));
        String s = heatmap.get(0);
        String t = heatmap.get(1);
        float[][] sb = AttentionHeatmap.block(loaded.get(s), encoders.get(s), first, heatmapLayer);
        float[][] tb = AttentionHeatmap.block(loaded.get(t), encoders.get(t), first, heatmapLayer);
        sections.put(
            "heatmap",
            dir ->
                AttentionHeatmap.write(
                    s + " (layer " + heatmapLayer + ")",
                    sb,
                    t + " (layer " + heatmapLayer + ")",
                    tb,
                    dir.resolve("heatmap.png")));
      }
      Path written = EvaluationReport.write(result, report, sections);
      err.println("drivekd: report written to " + written);
      if (json) {
        JsonNode node =
            new ObjectMapper().readTree(written.resolve(EvaluationReport.JSON_FILE).toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) node).put("report", written.toString());
        PrintWriter o = spec.commandLine().getOut();
        o.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(node));
        o.flush();
      } else {
        spec.commandLine()
            .getOut()
            .println(Files.readString(written.resolve(EvaluationReport.MARKDOWN_FILE)));
        spec.commandLine().getOut().flush();
      }
      return 0;
    } finally {
      loaded.values().forEach(InternVlModel::close);
    }
  }

  private JudgeEndpoint endpoint() {
    Map<String, String> env = new LinkedHashMap<>(System.getenv());
    if (judgeUrl != null) {
      env.put(JudgeEndpoint.URL_VARIABLE, judgeUrl.toString());
    }
    if (judgeModel != null) {
      env.put(JudgeEndpoint.MODEL_VARIABLE, judgeModel);
    }
    try {
      JudgeEndpoint e = JudgeEndpoint.fromEnvironment(env);
      return e.withRetries(
          java.time.Duration.ofSeconds(judgeTimeout),
          judgeAttempts,
          e.firstBackoff(),
          e.maxBackoff());
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(
          e.getMessage() + " (or give --judge-url and --judge-model)");
    }
  }

  private static InternVlModel load(String name, Path folder, Device device) throws IOException {
    if (!Files.isRegularFile(folder.resolve(InternVlModel.CONFIG_FILE))) {
      throw new IllegalArgumentException(
          "--model "
              + name
              + "="
              + folder
              + ": no "
              + InternVlModel.CONFIG_FILE
              + " there (a native model folder holds "
              + InternVlModel.CONFIG_FILE
              + " and "
              + InternVlModel.WEIGHTS_FILE
              + ")");
    }
    return InternVlModel.load(folder, device);
  }

  static Tokenizer loadTokenizer(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--tokenizer " + file + ": no such file");
    }
    String head = Files.readString(file).substring(0, (int) Math.min(4096, Files.size(file)));
    if (head.contains("\"" + WordTokenizer.FORMAT + "\"")) {
      return WordTokenizer.load(file);
    }
    return HuggingFaceTokenizerAdapter.builder().setTokenizerPath(file).build();
  }

  private static BatchEncoder encoder(Tokenizer tokenizer, InternVlModel model) {
    return BatchEncoder.builder()
        .setTokenizer(tokenizer)
        .setImagePipeline(ImagePipeline.imageNet(model.card().imageSize()))
        .setModel(model.card())
        .build();
  }

  /** A model's answers under the name the user gave it. */
  private record NamedAnswers(String name, GreedyAnswers inner)
      implements dev.drivekd.eval.answer.Answerer {
    @Override
    public String modelName() {
      return name;
    }

    @Override
    public String fingerprint() {
      return inner.fingerprint();
    }

    @Override
    public Tokenizer tokenizer() {
      return inner.tokenizer();
    }

    @Override
    public dev.drivekd.eval.answer.GeneratedAnswer answer(DrivingSample sample) {
      return inner.answer(sample);
    }
  }
}
