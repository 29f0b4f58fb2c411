package dev.drivekd.eval.synthdrive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingDatasetReader;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.image.ImagePipeline;
import dev.drivekd.core.model.BatchEncoder;
import dev.drivekd.core.model.ForwardRequest;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.ModelOutput;
import dev.drivekd.core.model.VisionLanguageModel;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.model.internvl.InternVlConfig;
import dev.drivekd.core.model.internvl.InternVlModel;
import dev.drivekd.core.text.WordPreTokenizer;
import dev.drivekd.core.text.WordTokenizer;
import dev.drivekd.eval.OptionChoice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The teachers' grounding term, their grounded fine-tuning, and option choice by next letter. */
class GroundingAndChoiceTest {

  @TempDir Path dir;
  private SynthDrive synth;
  private DrivingDataset data;
  private WordTokenizer tokenizer;
  private BatchEncoder encoder;

  @BeforeEach
  void setUp() {
    synth = new SynthDrive(SynthDriveConfig.defaults(), 4);
    Path file = synth.write(dir, SynthDrive.Split.TRAIN, 12);
    data = DrivingDatasetReader.builder().optDataRoot(dir).build().read(file);
    List<String> markers = new ArrayList<>(WordPreTokenizer.DEFAULT_MARKERS);
    markers.addAll(synth.tagMarkers());
    tokenizer = WordTokenizer.builder().optMarkers(markers).addDataset(data).build();
    encoder =
        BatchEncoder.builder()
            .setTokenizer(tokenizer)
            .setImagePipeline(ImagePipeline.imageNet(112))
            .setTokensPerImage(16)
            .build();
  }

  /** With a[tag, cell] = 0.5 on every tag row, the loss is -log(0.5) and the share 0.5. */
  @Test
  void theLossIsMinusTheMeanLogOfEachTagsAttentionOnItsCell() {
    TagGrounding grounding = new TagGrounding(synth, tokenizer);
    List<DrivingSample> samples = data.samples().subList(0, 6);
    try (NDManager m = NDManager.newBaseManager()) {
      VlmBatch batch = encoder.encodeSamples(m, samples, BatchEncoder.PromptMode.TRAINING);
      int b = batch.batchSize();
      int length = batch.length();
      long[] ids = batch.inputIds().toLongArray();
      float[] map = new float[b * length * length];
      java.util.Arrays.fill(map, 0.01f);
      int tags = 0;
      for (int s = 0; s < b; s++) {
        List<Integer> vision = new ArrayList<>();
        for (int i = 0; i < batch.layout().length(s); i++) {
          if (batch.layout().isImage(s, i)) {
            vision.add(i);
          }
        }
        String question = samples.get(s).question();
        for (int i = 0; i < batch.layout().length(s); i++) {
          String piece = tokenizer.decode(new long[] {ids[s * length + i]});
          if (piece.startsWith("<c") && question.contains(piece)) {
            double x = Double.parseDouble(piece.split(",")[2]);
            double y = Double.parseDouble(piece.split(",")[3].replace(">", ""));
            int cell = (int) (y * 4) * 4 + (int) (x * 4);
            map[(s * length + i) * length + vision.get(cell)] = 0.5f;
            tags++;
          }
        }
      }
      assertTrue(tags >= 6, "the questions have tags: " + tags);
      NDArray attention = m.create(map, new Shape(b, length, length));
      NDArray loss = grounding.loss(attention, batch, m);
      assertEquals(-Math.log(0.5 + 1e-6), loss.getFloat(), 1e-5);
      assertEquals(0.5, grounding.onCellShare(attention, batch), 1e-6);
      // a batch without tags has no grounding term
      VlmBatch plain =
          encoder.encode(
              m,
              List.of(List.of(new dev.drivekd.core.prompt.TextBlock("no tag here", false))),
              dir);
      assertNull(grounding.loss(m.zeros(new Shape(1, plain.length(), plain.length())), plain, m));
    }
  }

  /**
   * Every answer-predicting row puts 0.2 on each of the question's tags: the routing term is
   * -log(0.2 * tags), with one tag in perception questions and two in reasoning ones.
   */
  @Test
  void theRoutingTermIsMinusTheMeanLogOfEachAnswerRowsMassOnTheTags() {
    TagGrounding grounding = new TagGrounding(synth, tokenizer);
    for (int first : new int[] {0, 1}) { // record 0: perception (one tag), 1: reasoning (two)
      List<DrivingSample> samples = List.of(data.samples().get(first));
      try (NDManager m = NDManager.newBaseManager()) {
        VlmBatch batch = encoder.encodeSamples(m, samples, BatchEncoder.PromptMode.TRAINING);
        int length = batch.length();
        long[] ids = batch.inputIds().toLongArray();
        List<Integer> tags = new ArrayList<>();
        for (int i = 0; i < length; i++) {
          String piece = tokenizer.decode(new long[] {ids[i]});
          if (piece.startsWith("<c") && samples.get(0).question().contains(piece)) {
            tags.add(i);
          }
        }
        float[] map = new float[length * length];
        for (int t = 0; t + 1 < length; t++) {
          if (batch.layout().isSupervised(0, t + 1)) {
            for (int tag : tags) {
              map[t * length + tag] = 0.2f;
            }
          }
        }
        NDArray loss = grounding.routingLoss(m.create(map, new Shape(1, length, length)), batch, m);
        assertEquals(first + 1, tags.size(), samples.get(0).question());
        assertEquals(-Math.log(0.2 * tags.size() + 1e-6), loss.getFloat(), 1e-5);
      }
    }
  }

  /** A few grounded steps move a fresh model's tag attention onto the tagged cells. */
  @Test
  void groundedFineTuningPullsTagAttentionOntoTheCell() {
    TagGrounding grounding = new TagGrounding(synth, tokenizer);
    InternVlConfig config =
        InternVlConfig.preset("student-tiny").withTokenizer(tokenizer.identity());
    try (InternVlModel model = InternVlModel.create(config, Device.cpu(), 1);
        NDManager m = NDManager.newBaseManager()) {
      BatchEncoder enc =
          BatchEncoder.builder()
              .setTokenizer(tokenizer)
              .setImagePipeline(ImagePipeline.imageNet(112))
              .setModel(model.card())
              .build();
      VlmBatch probe =
          enc.encodeSamples(m, data.samples().subList(0, 9), BatchEncoder.PromptMode.TRAINING);
      double before = share(model, grounding, probe);
      GroundedFineTuning.Result r =
          new GroundedFineTuning(25, 6, 3e-3, 1.0, 3).train(model, enc, data, grounding, null);
      double after = share(model, grounding, probe);
      assertTrue(before < 0.15, "a fresh model spreads its attention: " + before);
      assertTrue(after > 2 * before && after > 0.2, before + " -> " + after);
      assertTrue(r.lastLoss() < r.firstLoss(), r.toString());
    }
  }

  private static double share(InternVlModel model, TagGrounding grounding, VlmBatch batch) {
    ModelOutput out = model.forward(batch, ForwardRequest.attentionOf(0), false);
    return grounding.onCellShare(out.attention().headAveraged(0), batch);
  }

  @Test
  void optionCountsReadTheQuestionsLetters() {
    assertEquals(4, OptionChoice.optionCount("Q? options: A. Red. B. Blue. C. White. D. Yellow."));
    assertEquals(2, OptionChoice.optionCount("Same colour? options: A. Yes. B. No."));
    assertEquals(0, OptionChoice.optionCount("Describe object <c1,CAM_FRONT,0.1250,0.3750>."));
    assertEquals(0, OptionChoice.optionCount("Is it a car. B. maybe"), "no A: not a list");
  }

  /** The chosen letter is the question's letter with the largest logit after "Final: {". */
  @Test
  void theChoiceIsTheLargestLetterLogitAmongTheQuestionsOptions() {
    long c = tokenizer.encode("C")[0];
    long d = tokenizer.encode("D")[0];
    List<DrivingSample> samples = new ArrayList<>();
    for (DrivingSample s : data.samples()) {
      int options = OptionChoice.optionCount(s.question());
      if ((options == 2 || options == 4)
          && samples.stream().noneMatch(x -> OptionChoice.optionCount(x.question()) == options)) {
        samples.add(s);
      }
    }
    assertEquals(2, samples.size(), "one two-option and one four-option question");
    // a model whose last logits favour D, then C, then the rest: D where there are four options,
    // and among A/B the larger of those two
    long a = tokenizer.encode("A")[0];
    VisionLanguageModel fake =
        new FakeModel(
            new long[] {a, tokenizer.encode("B")[0], c, d}, new float[] {1f, 0.5f, 2f, 3f});
    char[] chosen = new OptionChoice(fake, encoder, dir).choose(samples, 2);
    for (int i = 0; i < samples.size(); i++) {
      int options = OptionChoice.optionCount(samples.get(i).question());
      assertEquals(options == 4 ? 'D' : 'A', chosen[i], samples.get(i).question());
    }
  }

  /** Logits that are 0 except at the letter ids, equal at every position. */
  private final class FakeModel implements VisionLanguageModel {
    private final long[] ids;
    private final float[] values;

    FakeModel(long[] ids, float[] values) {
      this.ids = ids;
      this.values = values;
    }

    @Override
    public ModelCard card() {
      return new ModelCard("fake", 1, 1, 8, 512, 16, 112, tokenizer.identity());
    }

    @Override
    public Device device() {
      return Device.cpu();
    }

    @Override
    public ModelOutput forward(VlmBatch batch, ForwardRequest request, boolean training) {
      int b = batch.batchSize();
      int length = batch.length();
      float[] logits = new float[b * length * 512];
      for (int s = 0; s < b; s++) {
        for (int i = 0; i < length; i++) {
          for (int k = 0; k < ids.length; k++) {
            logits[(s * length + i) * 512 + (int) ids[k]] = values[k];
          }
        }
      }
      NDArray out = batch.manager().create(logits, new Shape(b, length, 512));
      return new ModelOutput(out, new TreeMap<>(), new TreeMap<>(), List.of(), 1, batch.layout());
    }

    @Override
    public List<Parameter> trainableParameters() {
      return List.of();
    }

    @Override
    public void freeze(boolean frozen) {}

    @Override
    public void close() {}
  }
}
