package dev.drivekd.examples.ablation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's arithmetic on hand-computed rows: spread over seeds and paired differences. */
class AblationReportTest {

  private static HeldOutAblation.Row row(String variant, long seed, double overall) {
    Map<String, Double> each = Map.of("perception", overall, "reasoning", 0.5, "planning", 0.25);
    return new HeldOutAblation.Row(variant, seed, overall, each, Map.of(), Map.of(), 1.0, 10, 0);
  }

  @Test
  void spreadIsTheMeanAndSampleDeviationOverSeeds() {
    AblationReport.Spread s = AblationReport.Spread.of(List.of(0.30, 0.40, 0.50));
    assertEquals(0.40, s.mean(), 1e-12);
    assertEquals(0.10, s.std(), 1e-12); // sqrt((0.01 + 0 + 0.01) / 2)
    assertEquals(0.0, AblationReport.Spread.of(List.of(0.7)).std(), 0, "one seed: no spread");
  }

  @Test
  void pairedDifferencesSubtractCeOnlyOfTheSameSeed() {
    List<HeldOutAblation.Row> rows =
        List.of(
            row("ce_only", 1, 0.30),
            row("drive_kd", 1, 0.40),
            row("ce_only", 2, 0.50),
            row("drive_kd", 2, 0.54));
    Map<String, AblationReport.Spread> paired = AblationReport.pairedToCeOnly(rows);
    assertEquals(0.07, paired.get("drive_kd").mean(), 1e-12); // (0.10 + 0.04) / 2
    assertEquals(Math.sqrt(2 * 0.03 * 0.03), paired.get("drive_kd").std(), 1e-12);
    assertEquals(0.0, paired.get("ce_only").mean(), 0);
    // unpaired, the spread of drive_kd alone is far wider than its paired difference's
    assertEquals(0.47, AblationReport.spread(rows, "overall").get("drive_kd").mean(), 1e-12);

    String table =
        AblationReport.table(new HeldOutAblation.Result(rows, Map.of(), 0, Map.of(), 1.0));
    assertTrue(table.contains("| ce_only | 40.0 ± 14.1 |"), table);
    assertTrue(table.contains("| drive_kd | 47.0 ± 9.9 |"), table);
    assertTrue(table.contains("| +7.0 ± 4.2 |"), table);
  }
}
