package dev.drivekd.core.data;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable, validated driving dataset: its samples in file order, the number of samples per
 * capability, how many had an unknown type that the policy's fallback resolved, and the warnings
 * raised while reading.
 */
public final class DrivingDataset {

  private final Path sourceFile;
  private final List<DrivingSample> samples;
  private final Map<Capability, Integer> counts;
  private final int unknownCount;
  private final List<DatasetWarning> warnings;

  /** Creates a dataset; the counts are derived from the samples. */
  public DrivingDataset(
      Path sourceFile, List<DrivingSample> samples, List<DatasetWarning> warnings) {
    this.sourceFile = sourceFile;
    this.samples = List.copyOf(samples);
    this.warnings = List.copyOf(warnings);
    EnumMap<Capability, Integer> c = new EnumMap<>(Capability.class);
    for (Capability capability : Capability.values()) {
      c.put(capability, 0);
    }
    int unknown = 0;
    for (DrivingSample sample : this.samples) {
      c.merge(sample.capability(), 1, Integer::sum);
      if (sample.type().fromFallback()) {
        unknown++;
      }
    }
    this.counts = Collections.unmodifiableMap(c);
    this.unknownCount = unknown;
  }

  /** The dataset file. */
  public Path sourceFile() {
    return sourceFile;
  }

  /** The samples, in file order. */
  public List<DrivingSample> samples() {
    return samples;
  }

  /** The number of samples. */
  public int size() {
    return samples.size();
  }

  /** The sample at position {@code i}. */
  public DrivingSample get(int i) {
    return samples.get(i);
  }

  /** The number of samples of one capability (fallback assignments included). */
  public int count(Capability capability) {
    return counts.get(capability);
  }

  /** Sample counts for every capability, in index order. */
  public Map<Capability, Integer> counts() {
    return counts;
  }

  /** How many samples had an unknown type and got the policy's fallback capability. */
  public int unknownCount() {
    return unknownCount;
  }

  /** The warnings raised while reading (also logged through SLF4J). */
  public List<DatasetWarning> warnings() {
    return warnings;
  }
}
