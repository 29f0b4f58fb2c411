/**
 * What moves with the optimizer's step count (method.md 5): the learning-rate schedule {@link
 * dev.drivekd.core.train.schedule.LrSchedule} (the reference's LambdaLR: constant, linear or cosine
 * with warmup and floor) and the accumulation windows {@link
 * dev.drivekd.core.train.schedule.AccumulationSchedule} (loss scale per micro-step, when the
 * optimizer steps).
 */
package dev.drivekd.core.train.schedule;
