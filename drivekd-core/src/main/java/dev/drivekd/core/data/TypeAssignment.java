package dev.drivekd.core.data;

/**
 * The capability assigned to one record and where it came from.
 *
 * @param capability the assigned capability
 * @param field the key read ({@code question_type}, {@code type} or {@code capability}), or null
 *     when none is present
 * @param rawType Python {@code str()} of the value read, or null when absent or JSON null
 * @param fromFallback whether the type was unknown and the policy's fallback was used
 */
public record TypeAssignment(
    Capability capability, String field, String rawType, boolean fromFallback) {}
