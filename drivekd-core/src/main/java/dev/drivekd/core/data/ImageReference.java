package dev.drivekd.core.data;

import java.nio.file.Path;

/**
 * One image a sample's prompt uses: the path string as written in the data (what the prompt's image
 * block carries) and the absolute path it resolves to under the data root.
 *
 * @param rawPath the path string as written in the data
 * @param resolvedPath the normalised absolute path under the data root
 * @param field the JSON field it came from, such as {@code images[2]} or {@code question}
 */
public record ImageReference(String rawPath, Path resolvedPath, String field) {}
