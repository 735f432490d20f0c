#!/usr/bin/env bash
# Long fault campaigns: FaultInjectionIT for FAULTS_SECONDS (default 600) with FAULTS_CLIENTS
# clients (default 16), and CrashLoopIT with FAULTS_KILLS kill -9s (default 50). The default test
# run (mvn verify) runs both briefly (15 s of faulty pulls, 10 kills). Set FAULTS_SEED or
# CRASH_SEED to replay a failed run's schedule (the seed is printed and in every failure message).
# Prints each test's summary line and keeps the whole log in bench/results/faults-<date>.log.
# Only 127.0.0.1 is ever contacted. See bench/README.md and docs/reliability.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
SECONDS_OF_FAULTS=${FAULTS_SECONDS:-600}
CLIENTS=${FAULTS_CLIENTS:-16}
KILLS=${FAULTS_KILLS:-50}
ONLY=${FAULTS_ONLY:-FaultInjectionIT,CrashLoopIT}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}

for tool in docker-registry skopeo mvn java; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "faults.sh: $tool is missing (apt-get install docker-registry skopeo maven openjdk-17-jdk-headless)" >&2
    exit 1
  fi
done

mkdir -p "$RESULTS_DIR"
log="$RESULTS_DIR/faults-$(date -u +%Y%m%d-%H%M%S).log"
props=(-Dregmirror.faults.seconds="$SECONDS_OF_FAULTS" -Dregmirror.faults.clients="$CLIENTS"
       -Dregmirror.crash.kills="$KILLS")
[ -n "${FAULTS_SEED:-}" ] && props+=(-Dregmirror.faults.seed="$FAULTS_SEED")
[ -n "${CRASH_SEED:-}" ] && props+=(-Dregmirror.crash.seed="$CRASH_SEED")

echo "faults.sh: $ONLY, ${SECONDS_OF_FAULTS}s of faults with $CLIENTS clients, $KILLS kills; log in $log"
cd "$repo"
status=0
# package runs before the ITs, so proxy-cli's CrashLoopIT gets the jar it starts. A failure does not
# stop the build (proxy-cli would be skipped after a proxy-server failure); the summaries decide.
mvn -B ${MVN_OFFLINE--o} verify -pl proxy-core,proxy-server,proxy-cli -Dmaven.test.failure.ignore=true \
    -Dtest='NoSuchTest*' -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test="$ONLY" -Dfailsafe.failIfNoSpecifiedTests=false \
    "${props[@]}" >"$log" 2>&1 || status=$?
grep -a -E '^(FaultInjectionIT|CrashLoopIT)[: ]|Tests run:.*(FaultInjectionIT|CrashLoopIT)' "$log" || true
if grep -a -E 'Tests run:.*(Failures: [1-9]|Errors: [1-9])' "$log" >/dev/null; then
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "faults.sh: FAILED (exit $status); see $log and the failsafe reports under */target/failsafe-reports" >&2
fi
exit "$status"
