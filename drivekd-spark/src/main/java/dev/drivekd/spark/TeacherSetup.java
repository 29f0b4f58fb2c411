package dev.drivekd.spark;

import java.io.Serializable;

/**
 * How an executor (and the driver) builds the precomputation: shipped to every executor, opened at
 * most once per JVM ({@link ExecutorTeachers}). Implementations name everything by path or value,
 * never by loaded object.
 */
public interface TeacherSetup extends Serializable {

  /** Identifies the setup within a JVM: two setups with one key share their loaded teachers. */
  String key();

  /** Loads the dataset and the teachers and builds the precomputer. */
  Precomputation open() throws Exception;
}
