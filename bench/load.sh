#!/usr/bin/env bash
# The load campaign of issue 12: LoadIT (proxy-server) run for a minute with 1,000 active keep-alive
# connections mixing cached manifests, cached blobs and misses, beside 2,000 idle kept-alive ones,
# against a real docker-registry upstream. Prints requests, errors, p50/p99 by kind, heap after GC,
# RSS and direct memory, and keeps the whole output in bench/results/load-<date>-<time>.txt.
#
# The test asserts what it asserts in the default suite (no errors, every digest right, every
# active connection answered beside the idle ones, idle ones kept and served after, heap, RSS and
# descriptors bounded); the latencies are figures, not assertions. Knobs: LOAD_SECONDS (60),
# LOAD_CONNECTIONS (1000), LOAD_IDLE (2000), LOAD_MISSES (600 distinct uncached blobs of 16 KiB),
# LOAD_MVN_ARGS (extra Maven arguments, e.g. -o).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
seconds=${LOAD_SECONDS:-60}
connections=${LOAD_CONNECTIONS:-1000}
idle=${LOAD_IDLE:-2000}
misses=${LOAD_MISSES:-600}

# Client and server run in one JVM: each connection is two descriptors, plus the JVM's own.
need_fds=$(( 2 * (connections + idle) + 1000 ))
if (( $(ulimit -n) < need_fds )); then
  ulimit -n "$need_fds" 2> /dev/null || {
    echo "load: needs $need_fds open files, ulimit -n is $(ulimit -n) (raise it, or lower LOAD_IDLE)" >&2
    exit 1
  }
fi
command -v docker-registry > /dev/null || { echo "load: install docker-registry and skopeo" >&2; exit 1; }
command -v skopeo > /dev/null || { echo "load: install skopeo" >&2; exit 1; }

mkdir -p "$here/results"
log="$here/results/load-$(date +%Y%m%d-%H%M%S).txt"
echo "load: $connections active + $idle idle connections for ${seconds}s; output in $log"
cd "$repo"
# Without the suite's paranoid leak tracking (the test samples leaks itself): at this volume
# recording a stack per buffer would be the load.
status=0
mvn -B -q ${LOAD_MVN_ARGS:-} verify -pl proxy-core,proxy-server \
  -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=LoadIT -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dtest.jvm.args="-Dio.netty.leakDetection.level=simple" \
  -Dregmirror.load.seconds="$seconds" -Dregmirror.load.connections="$connections" \
  -Dregmirror.load.idle="$idle" -Dregmirror.load.misses="$misses" > "$log" 2>&1 || status=$?
grep '^LoadIT:' "$log" || true
echo "load: machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
if (( status != 0 )); then
  echo "load: the test failed (exit $status); see $log" >&2
  grep -E 'FAIL|AssertionFailed|expected' "$log" | head -20 >&2 || true
fi
exit "$status"
