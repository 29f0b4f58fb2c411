package dev.drivekd.eval;

import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Multiple-choice accuracy of generated answers: for every sample whose question lists options
 * ({@link McqOption#isMultipleChoice}) and whose reference answer names one ({@link
 * McqOption.Rule#FINAL_OPTION}), the option the model's answer picks, under both rules. This is the
 * part of DriveBench's scoring that needs no LLM judge (method.md 7).
 */
public final class McqAccuracy {

  private McqAccuracy() {}

  /**
   * One multiple-choice sample.
   *
   * @param index the sample's position in the dataset
   * @param capability its question capability
   * @param expected the reference answer's option
   * @param answer the generated answer
   * @param finalOption the option the answer picks by its {@code Final:} line or opening letter
   * @param driveBench the option DriveBench's regex reads from the answer
   */
  public record Item(
      int index,
      Capability capability,
      char expected,
      String answer,
      Optional<Character> finalOption,
      Optional<Character> driveBench) {

    /** Whether the answer's {@code Final:} option is the reference's. */
    public boolean correct() {
      return finalOption.isPresent() && finalOption.get() == expected;
    }

    /** Whether DriveBench's regex reads the reference's option. */
    public boolean correctByDriveBench() {
      return driveBench.isPresent() && driveBench.get() == expected;
    }
  }

  /**
   * The multiple-choice items of {@code dataset} (optionally of one capability), answered by {@code
   * answers}.
   *
   * @param capability only samples of this capability, or {@code null} for all
   */
  public static List<Item> evaluate(
      DrivingDataset dataset, Capability capability, Function<DrivingSample, String> answers) {
    List<Item> items = new ArrayList<>();
    for (int i = 0; i < dataset.size(); i++) {
      DrivingSample sample = dataset.get(i);
      if (capability != null && sample.capability() != capability) {
        continue;
      }
      Optional<Character> expected = McqOption.of(sample.answer(), McqOption.Rule.FINAL_OPTION);
      if (!McqOption.isMultipleChoice(sample.question()) || expected.isEmpty()) {
        continue;
      }
      String answer = answers.apply(sample);
      items.add(
          new Item(
              i,
              sample.capability(),
              expected.get(),
              answer,
              McqOption.of(answer, McqOption.Rule.FINAL_OPTION),
              McqOption.of(answer, McqOption.Rule.DRIVEBENCH)));
    }
    return items;
  }

  /** How many items are correct by their {@code Final:} option. */
  public static long correct(List<Item> items) {
    return items.stream().filter(Item::correct).count();
  }

  /** How many items are correct by DriveBench's regex. */
  public static long correctByDriveBench(List<Item> items) {
    return items.stream().filter(Item::correctByDriveBench).count();
  }
}
