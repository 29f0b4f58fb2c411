package dev.drivekd.teachers.cache;

import dev.drivekd.core.attention.LayerMaps;
import dev.drivekd.core.data.Capability;
import dev.drivekd.core.data.DataFingerprint;
import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.core.data.DrivingSample;
import dev.drivekd.core.model.ModelCard;
import dev.drivekd.core.model.VlmBatch;
import dev.drivekd.core.train.DistillationRecipe;
import dev.drivekd.core.train.TeacherTargets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Teacher targets replayed from a cache written by {@link TeacherTargetPrecomputer}: the trainer
 * gets, per sample, the cached maps of each capability's teacher as {@link LayerMaps} (placed by
 * {@link CachedTeacherMaps}, created in the batch's manager), and each teacher's {@link ModelCard}
 * from the cache's index, so its recipe validation runs as with live teachers. No teacher weights
 * are loaded: a run needs the student, the dataset and the cache.
 *
 * <p>Opening fails fast, with a {@link TeacherCacheException} naming {@code index.json} and the
 * field, when the cache was made from another dataset, for a student that encodes differently
 * (tokenizer, tokens per image, image size), without a teacher for one of the recipe's
 * capabilities, with other teacher weights than expected, or without the entries the recipe needs
 * (a layer, or the kind of target its loss reads). Each sample's layout is checked when it is read.
 *
 * <pre>{@code
 * try (CachedTeacherTargets cached = CachedTeacherTargets.builder(cacheDir)
 *         .setStudent(student.card()).setDataset(dataset).optRecipe(recipe).open();
 *     DistillationTrainer trainer = DistillationTrainer.builder()
 *         .setStudent(student).setEncoder(encoder).optRecipe(recipe).optTeachers(cached).build()) {
 *   trainer.fit(dataset);
 * }
 * }</pre>
 */
public final class CachedTeacherTargets implements TeacherTargets {

  private static final Logger LOG = LoggerFactory.getLogger(CachedTeacherTargets.class);

  /** A capability's cached teacher: its identity, card and the signal its entries are under. */
  private record Role(TeacherIdentity teacher, ModelCard card, String signal) {}

  private final TeacherTargetCache cache;
  private final Path indexFile;
  private final Map<Capability, Role> roles;

  private CachedTeacherTargets(TeacherTargetCache cache, Path indexFile, Map<Capability, Role> r) {
    this.cache = cache;
    this.indexFile = indexFile;
    this.roles = Collections.unmodifiableMap(r);
  }

  /** A builder for the cache in {@code directory}. */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  @Override
  public Set<Capability> capabilities() {
    return roles.keySet();
  }

  @Override
  public ModelCard card(Capability capability) {
    return role(capability).card();
  }

  /** The weights fingerprint the cache recorded for {@code capability}'s teacher. */
  @Override
  public Optional<String> weightsFingerprint(Capability capability) {
    return Optional.of(teacher(capability).weightsFingerprint());
  }

  /** The recorded identity (name, weights fingerprint, depth) of {@code capability}'s teacher. */
  public TeacherIdentity teacher(Capability capability) {
    return role(capability).teacher();
  }

  /** The underlying cache (index, recipe, raw reads). */
  public TeacherTargetCache cache() {
    return cache;
  }

  /**
   * The cached maps of sample {@code sampleIndex} for each requested capability. A capability
   * played by the same teacher as another gets its own maps (each signal is stored under its key).
   *
   * @throws TeacherCacheException naming the chunk file when the sample was cached for another
   *     token layout, or {@code index.json} when a requested layer is not cached
   * @throws IllegalArgumentException for a batch of more than one sample, an uncached sample or a
   *     capability this source does not serve
   */
  @Override
  public Map<Capability, LayerMaps> targets(
      int sampleIndex,
      DrivingSample sample,
      VlmBatch batch,
      Map<Capability, SortedSet<Integer>> layers) {
    if (batch.batchSize() != 1) {
      throw new IllegalArgumentException(
          "cached teacher targets serve one sample at a time, got a batch of " + batch.batchSize());
    }
    CachedSample cached = cache.read(sampleIndex, batch.layout(), 0);
    Map<Capability, LayerMaps> out = new EnumMap<>(Capability.class);
    for (Map.Entry<Capability, SortedSet<Integer>> e : layers.entrySet()) {
      Role role = role(e.getKey());
      for (int layer : e.getValue()) {
        TargetKey key = new TargetKey(role.teacher().name(), role.signal(), layer);
        if (!cached.targets().containsKey(key)) {
          throw new TeacherCacheException(
              indexFile,
              "recipe.entries",
              "the trainer asks for "
                  + key
                  + " ("
                  + e.getKey().key()
                  + " layers "
                  + e.getValue()
                  + "), which sample "
                  + sampleIndex
                  + " does not hold; was the trainer given another recipe than the cache?",
              null);
        }
      }
      out.put(
          e.getKey(),
          CachedTeacherMaps.of(
              List.of(cached), role.teacher(), role.signal(), batch.layout(), batch.manager()));
    }
    return out;
  }

  private Role role(Capability capability) {
    Role role = roles.get(capability);
    if (role == null) {
      throw new IllegalArgumentException(
          "no cached teacher plays " + capability.key() + "; cached roles: " + roles.keySet());
    }
    return role;
  }

  /** Closes the open chunk file. */
  @Override
  public void close() {
    cache.close();
  }

  /** Configures and opens a {@link CachedTeacherTargets}. */
  public static final class Builder {
    private final Path directory;
    private DistillationRecipe recipe = DistillationRecipe.paper();
    private ModelCard student;
    private String datasetFingerprint;
    private final Map<Capability, TeacherIdentity> expected = new EnumMap<>(Capability.class);
    private final Map<Capability, ModelCard> expectedCards = new EnumMap<>(Capability.class);
    private Set<Capability> only;

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory);
    }

    /** The recipe the run trains with (default: the paper's); its entries must be cached. */
    public Builder optRecipe(DistillationRecipe recipe) {
      this.recipe = Objects.requireNonNull(recipe);
      return this;
    }

    /** The student's card: its depth resolves the layers, its encoding must match (required). */
    public Builder setStudent(ModelCard student) {
      this.student = Objects.requireNonNull(student);
      return this;
    }

    /** The dataset the run trains on ({@code DataFingerprint.of} its file is compared). */
    public Builder setDataset(DrivingDataset dataset) {
      return setDatasetFingerprint(DataFingerprint.of(List.of(dataset.sourceFile())));
    }

    /** The fingerprint of the dataset the run trains on (required, or {@link #setDataset}). */
    public Builder setDatasetFingerprint(String fingerprint) {
      this.datasetFingerprint = Objects.requireNonNull(fingerprint);
      return this;
    }

    /**
     * The teacher {@code capability} must have been computed by (name, weights fingerprint, depth).
     * Without it, the teacher recorded in the cache is trusted (and logged).
     */
    public Builder optExpectedTeacher(Capability capability, TeacherIdentity teacher) {
      expected.put(capability, Objects.requireNonNull(teacher));
      return this;
    }

    /**
     * Serves only these capabilities of the recipe (default: all of them), for a cache that holds
     * some roles while others stay live ({@link MixedTeacherTargets}).
     */
    public Builder optCapabilities(Set<Capability> capabilities) {
      this.only = java.util.EnumSet.copyOf(capabilities);
      return this;
    }

    /**
     * The card {@code capability}'s teacher must have (for example read from the teacher's
     * configuration, without its weights); compared field by field with the recorded card.
     */
    public Builder optExpectedCard(Capability capability, ModelCard card) {
      expectedCards.put(capability, Objects.requireNonNull(card));
      return this;
    }

    /**
     * Opens the cache and checks it against the run.
     *
     * @throws TeacherCacheException naming {@code index.json} (or a chunk) and the field
     */
    public CachedTeacherTargets open() {
      if (student == null || datasetFingerprint == null) {
        throw new IllegalArgumentException(
            "CachedTeacherTargets needs the student's card and the dataset (or its fingerprint)");
      }
      TeacherTargetCache cache = TeacherTargetCache.open(directory);
      try {
        return check(cache);
      } catch (RuntimeException e) {
        cache.close();
        throw e;
      }
    }

    private CachedTeacherTargets check(TeacherTargetCache cache) {
      CacheIndex index = cache.index();
      Path file = directory.toAbsolutePath().normalize().resolve(CacheIndex.FILE_NAME);
      CachedPanel panel = index.panel();
      if (panel == null) {
        throw new TeacherCacheException(
            file,
            "panel",
            "absent: this cache (format version "
                + index.version()
                + ") records no teacher cards or roles, which training from the cache needs;"
                + " rebuild it with TeacherTargetPrecomputer",
            null);
      }
      requireSameEncoding(file, panel.student());
      // Which teacher plays each capability, and the identity each must have: the expected one
      // where the run gives it, else the one recorded.
      Map<String, TeacherIdentity> identities = new LinkedHashMap<>();
      Map<Capability, String> names = new EnumMap<>(Capability.class);
      for (Capability c : recipe.losses().keySet()) {
        if (only != null && !only.contains(c)) {
          continue;
        }
        String name = panel.teacherOf(c);
        if (name == null) {
          throw new TeacherCacheException(
              file,
              "panel.roles",
              "the recipe has a "
                  + c.key()
                  + " loss, but no cached teacher plays "
                  + c.key()
                  + " (roles: "
                  + panel.roles()
                  + "); serve the others with optCapabilities",
              null);
        }
        TeacherIdentity recorded = index.recipe().teacher(name);
        if (recorded == null) {
          throw new TeacherCacheException(
              file,
              "panel.roles." + c.key(),
              "teacher '" + name + "' is not in recipe.teachers",
              null);
        }
        names.put(c, name);
        identities.putIfAbsent(name, recorded);
        TeacherIdentity want = expected.get(c);
        if (want == null) {
          continue;
        }
        if (!want.name().equals(name)) {
          throw new TeacherCacheException(
              file,
              "panel.roles." + c.key(),
              "the cache's "
                  + c.key()
                  + " teacher is '"
                  + name
                  + "', this run expects '"
                  + want.name()
                  + "'",
              null);
        }
        TeacherIdentity before = identities.put(name, want);
        if (before != recorded && !before.equals(want)) {
          throw new IllegalArgumentException(
              "two expectations for teacher '" + name + "': " + before + " and " + want);
        }
      }
      if (names.isEmpty()) {
        throw new IllegalArgumentException(
            "the cached teacher targets would serve no capability: the recipe's losses are "
                + recipe.losses().keySet()
                + (only == null ? "" : ", restricted to " + only));
      }
      CacheRecipe.Builder want = CacheRecipe.builder();
      identities.values().forEach(want::addTeacher);
      Map<Capability, Role> roles = new EnumMap<>(Capability.class);
      for (Map.Entry<Capability, String> e : names.entrySet()) {
        Capability c = e.getKey();
        ModelCard card = panel.teachers().get(e.getValue());
        ModelCard wantCard = expectedCards.get(c);
        if (wantCard != null && !wantCard.equals(card)) {
          throw new TeacherCacheException(
              file,
              "panel.teachers['" + e.getValue() + "']",
              "the cache's "
                  + c.key()
                  + " teacher has card "
                  + card
                  + ", this run expects "
                  + wantCard,
              null);
        }
        RecipeEntries.add(want, e.getValue(), recipe, c, student.depth(), card.depth());
        roles.put(
            c,
            new Role(index.recipe().teacher(e.getValue()), card, RecipeEntries.signal(recipe, c)));
      }
      // dataset, teacher weights and depth, every entry with its kind
      cache.requireCompatible(want.build(), datasetFingerprint);
      for (Map.Entry<Capability, Role> e : roles.entrySet()) {
        TeacherIdentity t = e.getValue().teacher();
        LOG.info(
            "{} targets from cache {}: teacher '{}' ({} layers, weights {}{})",
            e.getKey().key(),
            directory,
            t.name(),
            t.depth(),
            t.weightsFingerprint(),
            expected.containsKey(e.getKey()) ? ", as expected" : ", not checked against a model");
      }
      return new CachedTeacherTargets(cache, file, roles);
    }

    private void requireSameEncoding(Path file, ModelCard cached) {
      String field = null;
      String what = null;
      if (!cached.tokenizer().equals(student.tokenizer())) {
        field = "tokenizer";
        what = cached.tokenizer() + ", this run's student uses " + student.tokenizer();
      } else if (cached.tokensPerImage() != student.tokensPerImage()) {
        field = "tokensPerImage";
        what = cached.tokensPerImage() + ", this run's student has " + student.tokensPerImage();
      } else if (cached.imageSize() != student.imageSize()) {
        field = "imageSize";
        what = cached.imageSize() + ", this run's student has " + student.imageSize();
      }
      if (field != null) {
        throw new TeacherCacheException(
            file,
            "panel.student." + field,
            "the samples were encoded with " + what + " (the cached targets fit other sequences)",
            null);
      }
    }
  }

  @Override
  public String toString() {
    Set<String> teachers = new TreeSet<>();
    roles.values().forEach(r -> teachers.add(r.teacher().name()));
    return "CachedTeacherTargets{" + indexFile.getParent() + ", teachers " + teachers + "}";
  }
}
