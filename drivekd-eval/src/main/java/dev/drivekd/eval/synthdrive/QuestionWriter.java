package dev.drivekd.eval.synthdrive;

import dev.drivekd.core.data.Capability;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Writes one question per capability about a scene, each answerable only by looking at the image:
 *
 * <ul>
 *   <li><b>perception</b>: the kind of a tagged vehicle, the colour of a tagged road user, the lamp
 *       the tagged traffic light shows, or (a share of the time) "Describe object ...";
 *   <li><b>reasoning</b>: whether two tagged road users have the same colour, or which of two is
 *       the larger (bus and truck, then car, then motorcycle and pedestrian);
 *   <li><b>planning</b>: the ego car's safe action from the traffic light and what is in its lane
 *       within the two nearest rows (the far row does not matter yet): stop for a red light or a
 *       pedestrian in the lane, slow down for a yellow light, change to the left lane when a
 *       vehicle is close ahead (nearest row) and the left lane is free there and one row beyond,
 *       slow down behind a vehicle at middle distance, otherwise keep going.
 * </ul>
 *
 * Tags name cells ({@link Cell#tag}); options are always listed in one fixed order per question
 * type, so the option letter is a function of the answer.
 */
public final class QuestionWriter {

  private static final String SELECT =
      " Please select the correct answer from the following options: ";
  private static final List<String> KIND_OPTIONS = List.of("Car", "Truck", "Bus", "Motorcycle");
  private static final List<String> PAINT_OPTIONS = List.of("Red", "Blue", "White", "Yellow");
  private static final List<String> LIGHT_OPTIONS = List.of("Red", "Yellow", "Green");
  private static final List<String> YES_NO = List.of("Yes", "No");
  private static final List<String> LARGER_OPTIONS = List.of("Object c1", "Object c2", "Same size");
  private static final List<String> ACTIONS =
      List.of("Stop", "Slow down", "Change to the left lane", "Keep going");

  private final SynthDriveConfig config;

  /** A writer for {@code config}'s grid and cameras. */
  public QuestionWriter(SynthDriveConfig config) {
    this.config = config;
  }

  /** One question per capability, in capability order. */
  public List<Question> questions(Scene scene) {
    SplittableRandom random = new SplittableRandom(scene.seed() ^ 0x9E3779B97F4A7C15L);
    return List.of(perception(scene, random), reasoning(scene, random), planning(scene));
  }

  private Question perception(Scene scene, SplittableRandom random) {
    List<SceneObject> objects = scene.objects();
    SceneObject o = objects.get(random.nextInt(objects.size()));
    String tag = o.cell().tag(1, config);
    if (random.nextDouble() < config.openEndedShare()) {
      String answer = "A " + o.description() + " in the " + o.cell().position(config) + ".";
      return new Question(
          Capability.PERCEPTION,
          "describe",
          "Describe object " + tag + ".",
          List.of(),
          answer,
          Optional.empty());
    }
    double u = random.nextDouble();
    if (u < 0.2) {
      Cell light = scene.light();
      int option = scene.lightState().ordinal();
      String answer =
          fields(
              LIGHT_OPTIONS,
              option,
              "Object: traffic light",
              "State: " + scene.lightState().word());
      return multipleChoice(
          Capability.PERCEPTION,
          "light",
          "What does the traffic light " + light.tag(1, config) + " show?",
          LIGHT_OPTIONS,
          option,
          answer);
    }
    SceneObject vehicle = o.kind().isVehicle() ? o : null;
    if (u < 0.6 && vehicle != null) {
      int option = KIND_OPTIONS.indexOf(capitalised(vehicle.kind().word()));
      return multipleChoice(
          Capability.PERCEPTION,
          "kind",
          "What kind of vehicle is object " + tag + "?",
          KIND_OPTIONS,
          option,
          fields(
              KIND_OPTIONS,
              option,
              "Object: " + o.description(),
              "Position: " + o.cell().position(config)));
    }
    int option = o.paint().ordinal();
    return multipleChoice(
        Capability.PERCEPTION,
        "colour",
        "What colour is object " + tag + "?",
        PAINT_OPTIONS,
        option,
        fields(
            PAINT_OPTIONS,
            option,
            "Object: " + o.description(),
            "Position: " + o.cell().position(config)));
  }

  private Question reasoning(Scene scene, SplittableRandom random) {
    List<SceneObject> objects = scene.objects();
    int i = random.nextInt(objects.size());
    int j = (i + 1 + random.nextInt(objects.size() - 1)) % objects.size();
    SceneObject a = objects.get(i);
    SceneObject b = objects.get(j);
    boolean sameColourQuestion = random.nextBoolean();
    if (sameColourQuestion && random.nextBoolean()) {
      // half of these ask about a same-coloured pair where the scene has one: with four colours
      // a random pair is the same colour only a quarter of the time, and "No" would be a
      // three-in-four guess
      List<int[]> sameColour = new ArrayList<>();
      for (int x = 0; x < objects.size(); x++) {
        for (int y = 0; y < objects.size(); y++) {
          if (x != y && objects.get(x).paint() == objects.get(y).paint()) {
            sameColour.add(new int[] {x, y});
          }
        }
      }
      if (!sameColour.isEmpty()) {
        int[] pick = sameColour.get(random.nextInt(sameColour.size()));
        a = objects.get(pick[0]);
        b = objects.get(pick[1]);
      }
    }
    String pair = "objects " + a.cell().tag(1, config) + " and " + b.cell().tag(2, config);
    String[] support = {"Object c1: " + a.description(), "Object c2: " + b.description()};
    if (sameColourQuestion) {
      int option = a.paint() == b.paint() ? 0 : 1;
      return multipleChoice(
          Capability.REASONING,
          "same_colour",
          "Are " + pair + " the same colour?",
          YES_NO,
          option,
          fields(YES_NO, option, support));
    }
    int sa = a.kind().size();
    int sb = b.kind().size();
    int option = sa > sb ? 0 : sb > sa ? 1 : 2;
    return multipleChoice(
        Capability.REASONING,
        "larger",
        "Which is larger, object "
            + a.cell().tag(1, config)
            + " or object "
            + b.cell().tag(2, config)
            + "?",
        LARGER_OPTIONS,
        option,
        fields(LARGER_OPTIONS, option, support));
  }

  private Question planning(Scene scene) {
    int grid = config.grid();
    SceneObject pedestrian = null;
    SceneObject nearest = null;
    boolean leftLaneBusyNear = false;
    for (SceneObject o : scene.objects()) {
      Cell c = o.cell();
      if (c.camera() != 0) {
        continue;
      }
      boolean egoLane = c.column() > 0 && c.column() < grid - 1 && c.row() >= grid - 2;
      if (egoLane && o.kind() == ObjectKind.PEDESTRIAN) {
        pedestrian = pedestrian == null || c.row() > pedestrian.cell().row() ? o : pedestrian;
      } else if (egoLane && (nearest == null || c.row() > nearest.cell().row())) {
        nearest = o;
      }
      if (c.column() == 0 && c.row() >= grid - 2) {
        leftLaneBusyNear = true;
      }
    }
    int option;
    String reason;
    if (scene.lightState() == LightState.RED) {
      option = 0;
      reason = "the light is red";
    } else if (pedestrian != null) {
      option = 0;
      reason = "a pedestrian is in the ego lane";
    } else if (scene.lightState() == LightState.YELLOW) {
      option = 1;
      reason = "the light is yellow";
    } else if (nearest != null && nearest.cell().row() == grid - 1 && !leftLaneBusyNear) {
      option = 2;
      reason = "a vehicle is close ahead and the left lane is free";
    } else if (nearest != null) {
      option = 1;
      reason = "a vehicle is ahead in the ego lane";
    } else {
      option = 3;
      reason = "the light is green and the ego lane is clear";
    }
    SceneObject inLane = pedestrian != null ? pedestrian : nearest;
    String lane =
        inLane == null
            ? "clear"
            : inLane.description() + ", " + inLane.cell().position(config).split(", ")[1];
    return multipleChoice(
        Capability.PLANNING,
        "action",
        "The traffic light is " + scene.light().tag(1, config) + ". What should the ego car do?",
        ACTIONS,
        option,
        fields(
            ACTIONS,
            option,
            "Traffic light: " + scene.lightState().word(),
            "Ego lane: " + lane,
            "Reason: " + reason));
  }

  private static Question multipleChoice(
      Capability capability,
      String type,
      String question,
      List<String> options,
      int correct,
      String answer) {
    StringBuilder text = new StringBuilder(question).append(SELECT);
    for (int k = 0; k < options.size(); k++) {
      text.append(k == 0 ? "" : " ")
          .append(letter(k))
          .append(". ")
          .append(options.get(k))
          .append('.');
    }
    return new Question(
        capability, type, text.toString(), options, answer, Optional.of(letter(correct)));
  }

  /** {@code Final: {B. Blue.}} and the supporting fields, one per line. */
  private static String fields(List<String> options, int correct, String... support) {
    StringBuilder s =
        new StringBuilder("Final: {")
            .append(letter(correct))
            .append(". ")
            .append(options.get(correct))
            .append(".}");
    for (String line : support) {
      s.append('\n').append(line);
    }
    return s.toString();
  }

  private static char letter(int index) {
    return (char) ('A' + index);
  }

  private static String capitalised(String word) {
    return word.substring(0, 1).toUpperCase(Locale.ROOT) + word.substring(1);
  }
}
