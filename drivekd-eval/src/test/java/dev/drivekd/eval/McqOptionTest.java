package dev.drivekd.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drivekd.eval.McqOption.Rule;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class McqOptionTest {

  @Test
  void readsTheFinalLineOfTheDriveKdAnswerFormat() {
    assertEquals(
        Optional.of('A'),
        McqOption.of("Final: {A. Going ahead.}  \nObject: black sedan", Rule.FINAL_OPTION));
    assertEquals(
        Optional.of('C'),
        McqOption.of(
            "Final: C. The ego vehicle is slightly steering to the right.", Rule.FINAL_OPTION));
    assertEquals(Optional.of('B'), McqOption.of("final:{(b) turn left}", Rule.FINAL_OPTION));
    assertEquals(Optional.of('D'), McqOption.of("  D. Keep going.", Rule.FINAL_OPTION));
    assertEquals(Optional.empty(), McqOption.of("the the the and lane", Rule.FINAL_OPTION));
    // a letter inside a sentence is not an answer under this rule
    assertEquals(Optional.empty(), McqOption.of("It could be a B. or so", Rule.FINAL_OPTION));
  }

  @Test
  void driveBenchChecksATFirstAndTakesTheArticleForA() {
    assertEquals(Optional.of('B'), McqOption.of("The answer is B.", Rule.DRIVEBENCH));
    assertEquals(Optional.of('C'), McqOption.of("I pick option c", Rule.DRIVEBENCH));
    // its known flaw: the article "a" is option A, whatever comes later
    assertEquals(Optional.of('A'), McqOption.of("This is a car, so D.", Rule.DRIVEBENCH));
    assertEquals(Optional.of('A'), McqOption.of("Final: {A. Going ahead.}", Rule.DRIVEBENCH));
    assertEquals(Optional.empty(), McqOption.of("going ahead slowly", Rule.DRIVEBENCH));
  }

  @Test
  void aQuestionWithListedOptionsIsMultipleChoice() {
    assertTrue(
        McqOption.isMultipleChoice(
            "What is the moving status? Please select the correct answer from the following"
                + " options: A. Going ahead. B. Turn left. C. Turn right."));
    assertFalse(McqOption.isMultipleChoice("What are the important objects in the scene?"));
    assertFalse(McqOption.isMultipleChoice("Is it a B.M.W.? A. yes"));
  }
}
