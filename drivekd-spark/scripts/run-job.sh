#!/usr/bin/env bash
# Runs the teacher-targets job (TeacherTargetsJob) with the Spark of the Maven build, without a
# Spark installation: the worked local example of docs/scale-out.md.
#   drivekd-spark/scripts/run-job.sh [--master 'local[2]'] --recipe r.yaml [--partitions 2] ...
# Run from anywhere after `mvn -B install -DskipTests` in the repository. On a cluster, use
# spark-submit instead (docs/scale-out.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
master="local[*]"
if [ "${1:-}" = "--master" ]; then
  master="$2"
  shift 2
fi
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -f "$root/drivekd-spark/pom.xml" dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
opts=$(sed -n 's:.*<spark.test.jvm.options>\(.*\)</spark.test.jvm.options>.*:\1:p' \
  "$root/drivekd-spark/pom.xml")
# shellcheck disable=SC2086
exec java $opts -Dspark.master="$master" -Dai.djl.offline=true \
  -cp "$root/drivekd-spark/target/classes:$(cat "$cp_file")" dev.drivekd.spark.TeacherTargetsJob "$@"
