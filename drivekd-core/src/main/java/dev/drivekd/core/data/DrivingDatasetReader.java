package dev.drivekd.core.data;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a Drive-KD JSON dataset (method.md 6.1) into a validated {@link DrivingDataset}.
 *
 * <p>The root is a list of records or an object whose first list-valued key among {@code data,
 * items, samples, dataset, records} holds them. All question types are resolved first, as the
 * reference does, then each record's question, answer and images. Bad input raises a {@link
 * DatasetException} naming the file, record and field; tolerated oddities (non-object entries,
 * surplus placeholders or images) are logged and kept in {@link DrivingDataset#warnings()}.
 */
public final class DrivingDatasetReader {

  private static final Logger logger = LoggerFactory.getLogger(DrivingDatasetReader.class);

  /** The keys of an object root that may hold the records, in precedence order. */
  public static final List<String> ROOT_KEYS =
      List.of("data", "items", "samples", "dataset", "records");

  // Python's json module accepts NaN/Infinity and rejects trailing data; match both.
  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private final Path dataRoot;
  private final UnknownTypePolicy unknownTypePolicy;
  private final ImageCheckPolicy imageCheckPolicy;
  private final boolean lenientImageEntries;

  private DrivingDatasetReader(Builder builder) {
    this.dataRoot = builder.dataRoot;
    this.unknownTypePolicy = builder.unknownTypePolicy;
    this.imageCheckPolicy = builder.imageCheckPolicy;
    this.lenientImageEntries = builder.lenientImageEntries;
  }

  /** Creates a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads and validates a dataset file.
   *
   * @param file the JSON file
   * @return the dataset
   * @throws DatasetException on any bad input
   */
  public DrivingDataset read(Path file) {
    JsonNode root = parse(file);
    List<DatasetWarning> warnings = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    List<JsonNode> items = records(root, file, warnings, positions);
    if (items.isEmpty()) {
      throw DatasetException.forFile(file, "no records: expected at least one JSON object", null);
    }
    QuestionTypeResolver types = new QuestionTypeResolver(unknownTypePolicy);
    List<TypeAssignment> assignments = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      assignments.add(types.resolve(items.get(i), file, positions.get(i)));
    }
    SampleParser parser = parser(file, warnings);
    List<DrivingSample> samples = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      samples.add(parser.parse(items.get(i), positions.get(i), assignments.get(i)));
    }
    DrivingDataset dataset = new DrivingDataset(file, samples, warnings);
    logger.info(
        "Loaded {} samples from {} (perception={}, reasoning={}, planning={}, unknown_handled={})",
        dataset.size(),
        file,
        dataset.count(Capability.PERCEPTION),
        dataset.count(Capability.REASONING),
        dataset.count(Capability.PLANNING),
        dataset.unknownCount());
    return dataset;
  }

  /**
   * What {@link #check} found: the samples that read cleanly, every problem (one per failing
   * record, or one for the whole file), and the tolerated oddities.
   *
   * @param samples the records that read without a problem
   * @param problems each a {@link DatasetException} naming file, record and field
   * @param warnings the tolerated oddities
   * @param records the records the file holds (objects and others)
   */
  public record Check(
      List<DrivingSample> samples,
      List<DatasetException> problems,
      List<DatasetWarning> warnings,
      int records) {}

  /**
   * Reads every record of {@code file} and collects every problem instead of stopping at the first:
   * a record whose type, question, answer or image paths are wrong is reported and skipped, the
   * others are read. A file that is not JSON, or has no record list, is one problem.
   */
  public Check check(Path file) {
    List<DatasetWarning> warnings = new ArrayList<>();
    List<DatasetException> problems = new ArrayList<>();
    List<DrivingSample> samples = new ArrayList<>();
    List<JsonNode> items;
    List<Integer> positions = new ArrayList<>();
    int records;
    try {
      JsonNode root = parse(file);
      items = records(root, file, warnings, positions);
      records = items.size() + (int) warnings.stream().filter(w -> w.recordIndex() >= 0).count();
    } catch (DatasetException e) {
      return new Check(List.of(), List.of(e), List.of(), 0);
    }
    QuestionTypeResolver types = new QuestionTypeResolver(unknownTypePolicy);
    SampleParser parser = parser(file, warnings);
    for (int i = 0; i < items.size(); i++) {
      try {
        TypeAssignment type = types.resolve(items.get(i), file, positions.get(i));
        samples.add(parser.parse(items.get(i), positions.get(i), type));
      } catch (DatasetException e) {
        problems.add(e);
      }
    }
    if (items.isEmpty()) {
      problems.add(
          DatasetException.forFile(file, "no records: expected at least one JSON object", null));
    }
    return new Check(samples, problems, warnings, records);
  }

  /** The parser of {@code file}'s records: images under the data root, warnings into the list. */
  private SampleParser parser(Path file, List<DatasetWarning> warnings) {
    Path imageRoot = dataRoot != null ? dataRoot : file.toAbsolutePath().getParent();
    return new SampleParser(
        file,
        new ImagePathResolver(imageRoot, imageCheckPolicy),
        warnings::add,
        lenientImageEntries);
  }

  private static JsonNode parse(Path file) {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      // a UTF-8 byte-order mark (written by some Windows editors) is not part of the JSON
      reader.mark(1);
      if (reader.read() != '\uFEFF') {
        reader.reset();
      }
      return JSON.readTree(reader);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": ";
      throw DatasetException.forFile(file, where + "malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw DatasetException.forFile(file, "cannot read the file: " + e, e);
    }
  }

  private static List<JsonNode> records(
      JsonNode root, Path file, List<DatasetWarning> warnings, List<Integer> positions) {
    JsonNode list = null;
    String listField = null;
    if (root != null && root.isArray()) {
      list = root;
    } else if (root != null && root.isObject()) {
      for (String key : ROOT_KEYS) {
        if (root.path(key).isArray()) {
          list = root.get(key);
          listField = key;
          break;
        }
      }
    }
    if (list == null) {
      throw DatasetException.forFile(
          file,
          "root must be a list of records or an object with a list under one of "
              + ROOT_KEYS
              + ", found "
              + QuestionAnswerExtractor.describe(root),
          null);
    }
    List<JsonNode> items = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode entry = list.get(i);
      if (entry.isObject()) {
        items.add(entry);
        positions.add(i);
      } else {
        DatasetWarning w =
            new DatasetWarning(
                file,
                i,
                listField,
                "entry is " + QuestionAnswerExtractor.describe(entry) + ", not an object; dropped");
        logger.warn("{}", w);
        warnings.add(w);
      }
    }
    return items;
  }

  /** Builds a {@link DrivingDatasetReader}. */
  public static final class Builder {
    private Path dataRoot;
    private UnknownTypePolicy unknownTypePolicy = UnknownTypePolicy.error();
    private ImageCheckPolicy imageCheckPolicy = ImageCheckPolicy.REQUIRE_READABLE;
    private boolean lenientImageEntries;

    Builder() {}

    /**
     * Whether a malformed {@code images} value (not a list) or entry (not a non-empty string) is
     * skipped with a warning, as the reference implementation does, instead of being an error
     * naming file, record and field (the default).
     */
    public Builder optLenientImageEntries(boolean lenient) {
      this.lenientImageEntries = lenient;
      return this;
    }

    /**
     * Sets the folder that image paths are relative to and must stay inside. Defaults to the folder
     * of the dataset file.
     */
    public Builder optDataRoot(Path dataRoot) {
      this.dataRoot = Objects.requireNonNull(dataRoot, "dataRoot");
      return this;
    }

    /** Sets what happens to unknown question types; default {@link UnknownTypePolicy#error()}. */
    public Builder optUnknownTypePolicy(UnknownTypePolicy policy) {
      this.unknownTypePolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Sets how image files are checked; default {@link ImageCheckPolicy#REQUIRE_READABLE}. */
    public Builder optImageCheckPolicy(ImageCheckPolicy policy) {
      this.imageCheckPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Builds the reader. */
    public DrivingDatasetReader build() {
      return new DrivingDatasetReader(this);
    }
  }
}
