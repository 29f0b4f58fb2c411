#!/usr/bin/env bash
# The Spark job's scaling on this machine (docs/benchmarks.md, "Teacher targets on Spark"):
# single-machine precompute vs local[1] vs local[2]. Arguments go to ScalingBenchmark
# (--samples 300 --repeats 3 --samples-per-chunk 25 --work DIR). Run from the repository root
# after `mvn -B install -DskipTests`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -pl drivekd-spark dependency:build-classpath -Dmdep.outputFile="$cp_file" \
  -Dmdep.includeScope=test
opts=$(sed -n 's:.*<spark.test.jvm.options>\(.*\)</spark.test.jvm.options>.*:\1:p' drivekd-spark/pom.xml)
# shellcheck disable=SC2086
exec java $opts -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "drivekd-spark/target/classes:$(cat "$cp_file")" dev.drivekd.spark.ScalingBenchmark "$@"
