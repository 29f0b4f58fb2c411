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

  private static final String QUESTION =
      "What is the moving status of object <c1,CAM_FRONT,714.2,488.3>? Please select the correct"
          + " answer from the following options: A. Going ahead. B. Turn left. C. Turn right."
          + " D. Stopped.";

  @Test
  void robustReadsStructuredBareAndNamedLetters() {
    assertEquals(Optional.of('C'), McqOption.robust("Final: {C. Turn right.}", QUESTION));
    assertEquals(Optional.of('B'), McqOption.robust("B", QUESTION));
    assertEquals(Optional.of('B'), McqOption.robust(" (b) ", QUESTION));
    assertEquals(Optional.of('C'), McqOption.robust("option c.", QUESTION));
    assertEquals(Optional.of('D'), McqOption.robust("D. Stopped, the light is red.", QUESTION));
    assertEquals(Optional.of('C'), McqOption.robust("I think the answer is C.", QUESTION));
    assertEquals(Optional.of('B'), McqOption.robust("The correct answer is b.", QUESTION));
    assertEquals(Optional.of('D'), McqOption.robust("It waits at a red light (D)", QUESTION));
    assertEquals(Optional.of('A'), McqOption.robust("Answer: A.", QUESTION));
  }

  @Test
  void robustIsNotFooledByTheArticleA() {
    // DriveBench's rule reads A from the article; the robust one reads what the answer says
    String answer = "The object is a car that is turning to the right, so C";
    assertEquals(Optional.of('A'), McqOption.of(answer, Rule.DRIVEBENCH));
    assertEquals(Optional.of('C'), McqOption.robust(answer, QUESTION));
    assertEquals(Optional.of('A'), McqOption.of("the answer is a car", Rule.DRIVEBENCH));
    assertEquals(Optional.empty(), McqOption.robust("the answer is a car", QUESTION));
    assertEquals(Optional.empty(), McqOption.robust("A car drives past a truck.", QUESTION));
  }

  @Test
  void robustMatchesOptionTextBackToItsLetter() {
    assertEquals(Optional.of('B'), McqOption.robust("The sedan will turn left.", QUESTION));
    assertEquals(Optional.of('D'), McqOption.robust("It is stopped at the line", QUESTION));
    // two options' texts: ambiguous, nothing picked
    assertEquals(Optional.empty(), McqOption.robust("turn left or turn right", QUESTION));
    // two different letters named: ambiguous, and option text is not tried
    assertEquals(Optional.empty(), McqOption.robust("Either B or C, going ahead", QUESTION));
    assertEquals(Optional.empty(), McqOption.robust("no idea", QUESTION));
  }

  @Test
  void listedOptionsAreReadFromTheQuestion() {
    assertEquals(
        java.util.Map.of('A', "Going ahead", 'B', "Turn left", 'C', "Turn right", 'D', "Stopped"),
        McqOption.listedOptions(QUESTION));
    assertEquals(java.util.Map.of(), McqOption.listedOptions("What are the important objects?"));
  }
}
