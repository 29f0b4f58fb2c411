package dev.drivekd.core.data;

import java.util.Objects;
import java.util.Optional;

/**
 * What the reader does with a record whose question type is missing, null or not an alias: fail
 * with a {@link DatasetException} (the default, like {@code --on-unknown-type error}) or assign a
 * fallback capability.
 */
public final class UnknownTypePolicy {

  private static final UnknownTypePolicy ERROR = new UnknownTypePolicy(null);

  private final Capability fallback;

  private UnknownTypePolicy(Capability fallback) {
    this.fallback = fallback;
  }

  /** Unknown types are an error. */
  public static UnknownTypePolicy error() {
    return ERROR;
  }

  /** Unknown types become {@code capability}. */
  public static UnknownTypePolicy fallback(Capability capability) {
    return new UnknownTypePolicy(Objects.requireNonNull(capability, "capability"));
  }

  /**
   * Parses the reference's option values: {@code "error"} or a capability key such as {@code
   * "planning"}.
   */
  public static UnknownTypePolicy parse(String value) {
    if ("error".equals(value)) {
      return ERROR;
    }
    for (Capability c : Capability.values()) {
      if (c.key().equals(value)) {
        return fallback(c);
      }
    }
    throw new IllegalArgumentException(
        "unknown-type policy must be error, perception, reasoning or planning, got " + value);
  }

  /** Whether an unknown type is an error. */
  public boolean isError() {
    return fallback == null;
  }

  /** The fallback capability, empty under the error policy. */
  public Optional<Capability> fallbackCapability() {
    return Optional.ofNullable(fallback);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UnknownTypePolicy && ((UnknownTypePolicy) o).fallback == fallback;
  }

  @Override
  public int hashCode() {
    return Objects.hashCode(fallback);
  }

  @Override
  public String toString() {
    return isError() ? "error" : fallback.key();
  }
}
