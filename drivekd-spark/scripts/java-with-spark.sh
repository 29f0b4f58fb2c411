#!/usr/bin/env bash
# Runs a main class of drivekd-spark on the class path of the Maven build (Spark's provided jars
# included), with the --add-opens options Spark needs on Java 17 (as spark-submit adds them):
#   drivekd-spark/scripts/java-with-spark.sh [-Dprop=value ...] CLASS [args ...]
# Run after `mvn -B install -DskipTests` in the repository. run-job.sh and scaling-bench.sh use it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -f "$root/drivekd-spark/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
opts=$(sed -n 's:.*<spark.test.jvm.options>\(.*\)</spark.test.jvm.options>.*:\1:p' \
  "$root/drivekd-spark/pom.xml")
props=()
while [ $# -gt 0 ] && [[ "$1" == -D* ]]; do
  props+=("$1")
  shift
done
# shellcheck disable=SC2086
java $opts -Dai.djl.offline=true "${props[@]}" \
  -cp "$root/drivekd-spark/target/classes:$(cat "$cp_file")" "$@"
