/**
 * Teacher targets computed on Apache Spark: the samples of a dataset are split into shards of whole
 * cache chunks, each Spark task computes its shard's targets with the teachers its executor JVM
 * loaded once, into an attempt-private folder, and the driver commits the shards of the successful
 * attempts into one cache index only after every task succeeded (docs/scale-out.md).
 */
package dev.drivekd.spark;
