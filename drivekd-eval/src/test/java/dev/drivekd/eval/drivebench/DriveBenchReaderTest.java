package dev.drivekd.eval.drivebench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DatasetException;
import dev.drivekd.core.data.ImageCheckPolicy;
import dev.drivekd.eval.EvalItem;
import dev.drivekd.eval.QuestionForm;
import dev.drivekd.eval.judge.JudgeTask;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriveBenchReaderTest {

  @TempDir Path tmp;

  static Path fixtureDir() {
    try {
      return Path.of(
              DriveBenchReaderTest.class.getResource("/drivebench/drivebench-fixture.json").toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void mapsEveryDriveBenchQuestionKindOntoACapabilityAndAForm() {
    Path dir = fixtureDir();
    List<EvalItem> items =
        new DriveBenchReader(
                dir, ImageCheckPolicy.REQUIRE_READABLE, dir.resolve("visual_description.json"))
            .read(dir.resolve("drivebench-fixture.json"));
    assertEquals(8, items.size());
    Object[][] expected = {
      {Capability.PERCEPTION, QuestionForm.MULTIPLE_CHOICE, JudgeTask.PERCEPTION_MCQ},
      {Capability.PERCEPTION, QuestionForm.OPEN, JudgeTask.PERCEPTION_VQA},
      {Capability.REASONING, QuestionForm.OPEN, JudgeTask.PREDICTION_VQA},
      {Capability.REASONING, QuestionForm.YES_NO, null},
      {Capability.PLANNING, QuestionForm.OPEN, JudgeTask.PLANNING_VQA},
      {Capability.REASONING, QuestionForm.MULTIPLE_CHOICE, JudgeTask.BEHAVIOR_MCQ},
      {Capability.PERCEPTION, QuestionForm.MULTIPLE_CHOICE, JudgeTask.PERCEPTION_MCQ},
      {Capability.PLANNING, QuestionForm.OPEN, JudgeTask.PLANNING_VQA},
    };
    for (int i = 0; i < items.size(); i++) {
      EvalItem item = items.get(i);
      assertEquals(expected[i][0], item.capability(), "record " + i);
      assertEquals(expected[i][1], item.form(), "record " + i);
      assertEquals(
          Optional.ofNullable((JudgeTask) expected[i][2]),
          JudgeTask.of(item.questionType(), item.capability(), item.form()),
          "record " + i);
    }
    // ids: frame token and the question's place in its frame
    assertEquals("a1b2c3d4e5f60718293a4b5c6d7e8f90/0", items.get(0).id());
    assertEquals("0f9e8d7c6b5a49382716f5e4d3c2b1a0/1", items.get(7).id());
    // one image per camera, in the file's order, each after its camera's name
    EvalItem open = items.get(1);
    assertEquals(2, open.sample().images().size());
    assertEquals("image_path.CAM_FRONT", open.sample().images().get(0).field());
    assertTrue(
        open.sample().taggedQuestion().startsWith("CAM_FRONT: <image_path>samples/CAM_FRONT/"));
    assertTrue(open.sample().taggedQuestion().contains("CAM_BACK: <image_path>samples/CAM_BACK/"));
    // the judge's object description comes from the question's first tag (c1 on CAM_FRONT)
    assertEquals("red sedan.", items.get(0).objectDescription());
    assertEquals("black suv.", items.get(6).objectDescription());
    assertNull(items.get(7).objectDescription(), "no tag in the question");
    assertEquals("B", items.get(5).reference());
  }

  private DatasetException bad(String record) throws IOException {
    Path file = tmp.resolve("bad.json");
    Files.writeString(file, "[" + record + "]");
    return assertThrows(
        DatasetException.class,
        () -> new DriveBenchReader(tmp, ImageCheckPolicy.TEXT_ONLY, null).read(file));
  }

  private static String record(String type, String tag, String paths) {
    return "{\"scene_token\":\"s\",\"frame_token\":\"f\",\"question_type\":\""
        + type
        + "\",\"question\":\"q?\",\"answer\":\"A\",\"tag\":"
        + tag
        + ",\"image_path\":"
        + paths
        + "}";
  }

  @Test
  void badRecordsNameFileRecordAndField() throws IOException {
    String cam = "{\"CAM_FRONT\":\"samples/a.png\"}";
    DatasetException e = bad(record("perception", "[1]", cam));
    assertEquals(Optional.of("tag"), e.field());
    assertEquals(0, e.recordIndex().getAsInt());
    assertTrue(e.getMessage().contains("bad.json"), e.getMessage());
    assertTrue(e.getMessage().contains("tag 1 is not a perception question kind"), e.getMessage());

    e = bad(record("robust_qas", "[4]", cam));
    assertEquals(Optional.of("question_type"), e.field());
    assertTrue(e.getMessage().contains("robust_qas"), e.getMessage());

    e = bad(record("planning", "[1]", "{\"CAM_FRONT\":\"../../etc/passwd\"}"));
    assertEquals(Optional.of("image_path.CAM_FRONT"), e.field());
    assertTrue(e.getMessage().contains("escapes the data root"), e.getMessage());

    e = bad(record("planning", "[1]", "[\"samples/a.png\"]"));
    assertEquals(Optional.of("image_path"), e.field());

    e = bad(record("planning", "\"1\"", cam));
    assertEquals(Optional.of("tag"), e.field());

    e =
        bad(
            "{\"scene_token\":\"s\",\"frame_token\":\"f\",\"question_type\":\"planning\",\"tag\":[1]}");
    assertEquals(Optional.of("question"), e.field());

    Path empty = tmp.resolve("empty.json");
    Files.writeString(empty, "[]");
    DatasetException none =
        assertThrows(
            DatasetException.class,
            () -> new DriveBenchReader(tmp, ImageCheckPolicy.TEXT_ONLY, null).read(empty));
    assertTrue(none.getMessage().contains("no records"), none.getMessage());
  }
}
