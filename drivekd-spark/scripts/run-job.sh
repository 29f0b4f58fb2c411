#!/usr/bin/env bash
# Runs the teacher-targets job (TeacherTargetsJob) with the Spark of the Maven build, without a
# Spark installation: the worked local example of docs/scale-out.md.
#   drivekd-spark/scripts/run-job.sh [--master 'local[2]'] --recipe r.yaml [--partitions 2] ...
# Run from anywhere after `mvn -B install -DskipTests` in the repository. On a cluster, use
# spark-submit instead (docs/scale-out.md).
set -euo pipefail
master="local[*]"
if [ "${1:-}" = "--master" ]; then
  master="$2"
  shift 2
fi
exec "$(dirname "$0")/java-with-spark.sh" -Dspark.master="$master" \
  dev.drivekd.spark.TeacherTargetsJob "$@"
