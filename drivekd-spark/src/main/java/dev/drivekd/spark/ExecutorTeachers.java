package dev.drivekd.spark;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The precomputations of this JVM, by {@link TeacherSetup#key()}: the first task of an executor
 * loads the teachers, every later task of that executor (and every concurrent one) reuses them.
 */
public final class ExecutorTeachers {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorTeachers.class);
  private static final ConcurrentMap<String, Precomputation> LOADED = new ConcurrentHashMap<>();

  private ExecutorTeachers() {}

  /** This JVM's precomputation of {@code setup}, opened on first use. */
  public static Precomputation get(TeacherSetup setup) {
    return LOADED.computeIfAbsent(
        setup.key(),
        key -> {
          long t0 = System.nanoTime();
          try {
            Precomputation p = setup.open();
            LOG.info(
                "teachers of {} loaded in this JVM in {} ms",
                key,
                (System.nanoTime() - t0) / 1_000_000);
            return p;
          } catch (RuntimeException e) {
            throw e;
          } catch (Exception e) {
            throw new IllegalStateException("cannot load the teachers of " + key + ": " + e, e);
          }
        });
  }

  /** Closes and forgets this JVM's precomputation of {@code setup}, if it has one. */
  public static void release(TeacherSetup setup) {
    Precomputation p = LOADED.remove(setup.key());
    if (p != null) {
      try {
        p.resources().close();
      } catch (Exception e) {
        LOG.warn("closing the teachers of {}: {}", setup.key(), e.toString());
      }
    }
  }
}
