#!/usr/bin/env bash
# The Spark job's scaling on this machine (docs/benchmarks.md, "Teacher targets on Spark"):
# single-machine precompute vs local[1] vs local[2]. Arguments go to ScalingBenchmark
# (--samples 300 --repeats 3 --samples-per-chunk 25 --work DIR). Run after
# `mvn -B install -DskipTests` in the repository.
set -euo pipefail
exec "$(dirname "$0")/java-with-spark.sh" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  dev.drivekd.spark.ScalingBenchmark "$@"
