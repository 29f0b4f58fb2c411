package dev.drivekd.core.train.listener;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.drivekd.core.train.checkpoint.RunProvenance;
import dev.drivekd.core.train.checkpoint.StepCounters;
import java.util.LinkedHashMap;
import java.util.Map;

/** Listener inputs shared by the tests. */
final class Reports {
  private Reports() {}

  static Map<String, Double> map(Object... keyValues) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], ((Number) keyValues[i + 1]).doubleValue());
    }
    return m;
  }

  static StepReport step12() {
    return new StepReport(
        0,
        12,
        48,
        48,
        2.3456789,
        map("ce", 2.31, "p:first_att_Atv", 0.0123),
        map("ce", 1.0, "p:first_att_Atv", 0.8),
        new ProjectionStats("agp", 2, 1, 1, 0),
        5e-5,
        0.321,
        3.2109,
        0);
  }

  static TrainingBegin begin(long total, long startStep) {
    RunProvenance provenance =
        new RunProvenance(
            new ObjectMapper().createObjectNode().put("student", "tiny"),
            Map.of("data-order", 42L),
            new java.util.TreeMap<>(Map.of("drivekd", "0.1.0-SNAPSHOT", "djl", "0.36.0")),
            Map.of("data.json", "ab12"),
            "ab12",
            "2026-01-01T00:00:00Z");
    return new TrainingBegin(
        provenance, 2, 10, total, new StepCounters(0, startStep * 4, startStep, 0));
  }
}
