package dev.drivekd.spark;

import dev.drivekd.core.data.DrivingDataset;
import dev.drivekd.teachers.cache.TeacherTargetPrecomputer;

/**
 * What a JVM of the job holds once: the dataset and a precomputer over the loaded teachers, with
 * whatever owns them (closed when the JVM's copy is released).
 *
 * @param dataset the samples, in the order of their indices
 * @param precomputer the teachers, the recipe's signals, the student's encoding
 * @param resources closes the teachers and models
 */
public record Precomputation(
    DrivingDataset dataset, TeacherTargetPrecomputer precomputer, AutoCloseable resources) {}
