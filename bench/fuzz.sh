#!/usr/bin/env bash
# Longer fuzzing campaigns with Jazzer: every *FuzzTest (or those named) fuzzes for DURATION in a
# JVM of its own, as `mvn verify` does for 10 s each, and the campaign ends with a table of
# executions and time per target. The corpus each target builds is kept in
# <module>/.cifuzz-corpus/ (ignored by git) and grows from one campaign to the next; a crash fails
# its target and is written to src/test/resources/<package>/<Class>Inputs/<method>/crash-<sha1>,
# where every later test run replays it: fix the code, keep the file, commit both. Nothing leaves
# the machine. See docs/reliability.md, "Fuzzing".
#
#   bench/fuzz.sh                 # every target, 5 minutes each
#   bench/fuzz.sh 30m             # every target, 30 minutes each
#   bench/fuzz.sh 1h V2RequestDecoderFuzzTest ArchiveImportFuzzTest
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
duration=${1:-5m}
shift || true
results=${FUZZ_RESULTS_DIR:-$here/results}
mkdir -p "$results"
log="$results/fuzz-$(date -u +%Y%m%d-%H%M%S).log"

# One target at a time, so that each libFuzzer summary in the log follows its own target's name.
args=(-B test-compile surefire:test@fuzz -pl proxy-core,proxy-server -Dfuzz=true "-Dfuzz.duration=$duration"
  -Dfuzz.forks=1)
if (( $# > 0 )); then
  args+=("-Dtest=$(IFS=,; echo "$*")" -Dsurefire.failIfNoSpecifiedTests=false)
fi

cd "$repo"
echo "fuzzing for $duration per target; log: $log"
status=0
mvn "${args[@]}" > "$log" 2>&1 || status=$?

# One line per target: the class surefire ran, and libFuzzer's closing "Done N runs in S second(s)".
echo
printf '%-28s %12s %9s %8s %9s %s\n' target executions seconds exec/s coverage result
awk '
  /Running dev\.regmirror\..*FuzzTest/ { n = split($NF, parts, "."); target = parts[n]; order[++count] = target }
  /^Done [0-9]+ runs in [0-9]+ second/ { runs[target] = $2; secs[target] = $5 }
  /DONE +cov:/ { cov[target] = $4 }
  /Tests run:.*FAILURE.*in dev\.regmirror\..*FuzzTest/ { n = split($NF, parts, "."); failed[parts[n]] = 1 }
  END {
    for (i = 1; i <= count; i++) {
      t = order[i]; s = secs[t] > 0 ? secs[t] : 1
      printf "%-28s %12s %9s %8d %9s %s\n", t, runs[t], secs[t], runs[t] / s, cov[t], failed[t] ? "FINDING (see log)" : "ok"
    }
  }' "$log"
grep -h "Test unit written to" "$log" | sed 's/.*Test unit written to /new crash input: /' || true
exit "$status"
