package dev.drivekd.core.attention;

import java.util.List;

/**
 * One student layer and the consecutive teacher layers whose head-averaged maps it is compared
 * with; the target is their plain average (method.md 1.5).
 *
 * @param student the student layer index
 * @param teachers the teacher layer indices, non-empty, ascending
 */
public record LayerGroup(int student, List<Integer> teachers) {

  /** Copies the teacher list and checks it is not empty. */
  public LayerGroup {
    teachers = List.copyOf(teachers);
    if (teachers.isEmpty()) {
      throw new IllegalArgumentException(
          "student layer " + student + " has an empty teacher group");
    }
  }

  /** A one-to-one pair: student layer {@code student} against teacher layer {@code teacher}. */
  public static LayerGroup pair(int student, int teacher) {
    return new LayerGroup(student, List.of(teacher));
  }
}
