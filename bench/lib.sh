# Helpers shared by bench/run.sh and bench/tls.sh: the check for tools, the work directory and the
# cleanup of the processes a run started, free loopback ports, the upstream registry and its
# generated test data, and CPU time read from /proc. Sourced, not run: the caller has set
# `set -euo pipefail`, $here (bench/), $repo and $KEEP.

# ---- tools -----------------------------------------------------------------------------------
missing=()
need() { command -v "$1" > /dev/null 2>&1 || missing+=("$2"); } # command package
# After the `need` calls: stops, naming the packages to install, if a tool is missing; builds the
# jar if there is none.
check_tools() {
  if [[ ! -f "$repo/proxy-cli/target/regmirror.jar" ]]; then need mvn maven; fi
  if (( ${#missing[@]} )); then
    echo "bench: missing tools; install them with:" >&2
    echo "  apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
  if [[ ! -f "$repo/proxy-cli/target/regmirror.jar" ]]; then
    echo "bench: building regmirror (mvn -B -q -DskipTests package)"
    (cd "$repo" && mvn -B -q -DskipTests package)
  fi
}

# ---- work directory, processes, cleanup ------------------------------------------------------
# Makes $work (stops if $TMPDIR has less than $1 MiB free) and sets the traps that stop every
# process whose pid is in $pids and delete $work on exit, Ctrl-C or an error.
make_work() { # MiB needed
  work=$(mktemp -d "${TMPDIR:-/tmp}/regmirror-bench.XXXXXX")
  chmod 711 "$work" # nginx workers run as another user when started by root
  local free_mib
  free_mib=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
  if (( free_mib < $1 )); then
    echo "bench: $work has $free_mib MiB free, the run needs about $1 MiB (set TMPDIR elsewhere)" >&2
    rm -rf "$work"
    exit 1
  fi
  pids=()
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  if (( status != 0 )); then
    for log in "$work"/*.log; do
      [[ -f $log ]] && { echo "---- last lines of $log" >&2; tail -n 5 "$log" >&2; }
    done
  fi
  if [[ $KEEP == 1 ]]; then echo "bench: kept $work"; else rm -rf "$work"; fi
  exit "$status"
}

say() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }
raw() { echo "$*" >> "$work/raw.txt"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

# N free loopback ports: bound to port 0 together, so they differ, then released.
free_ports() { # N
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}

wait_ready() { # name url pid [curl options...]
  local deadline=$(( SECONDS + 60 ))
  until curl -s -f -o /dev/null "${@:4}" "$2"; do
    kill -0 "$3" 2> /dev/null || { echo "bench: $1 exited during start-up" >&2; exit 1; }
    (( SECONDS < deadline )) || { echo "bench: $1 did not answer $2 within 60 s" >&2; exit 1; }
    sleep 0.2
  done
}

# CPU seconds (user + system, all threads) used so far by these processes.
# With --children, also what their finished children used (the memory samplers' awk and sleep).
cpu_of() {
  local kids=0
  if [[ $1 == --children ]]; then kids=1; shift; fi
  for p in "$@"; do cut -d')' -f2- "/proc/$p/stat"; done \
    | awk -v hz="$(getconf CLK_TCK)" -v kids=$kids '{ s += $12 + $13 + kids * ($14 + $15) } END { printf "%.2f", s / hz }'
}
kib_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # pid VmRSS|VmHWM

# CPU seconds all cores spent busy so far, and the softirq part of it (loopback TCP, also charged
# to the process it interrupted).
machine_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f %.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz, $8 / hz }' /proc/stat
}
# CPU seconds of the kernel's threads (children of kthreadd: ksoftirqd, kworkers, kswapd).
kernel_cpu() {
  { cat /proc/[0-9]*/stat 2> /dev/null || true; } | awk -v hz="$(getconf CLK_TCK)" '
    { sub(/^[0-9]+ \(.*\) /, ""); if ($2 == 2) k += $12 + $13 } END { printf "%.2f", k / hz }'
}

# ---- upstream registry and test data ---------------------------------------------------------
registry_config() { # port rootdir [remote]
  cat <<EOF
version: 0.1
log:
  level: warn
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $2
http:
  addr: 127.0.0.1:$1
EOF
  if [[ -n ${3:-} ]]; then printf 'proxy:\n  remoteurl: %s\n' "$3"; fi
}

# Starts the upstream docker-registry on port $UP_PORT; sets UP_PID and UP (its URL). Its access log
# (stdout) is $work/upstream.log.
start_upstream() {
  registry_config "$UP_PORT" "$work/upstream" > "$work/upstream.yml"
  docker-registry serve "$work/upstream.yml" > "$work/upstream.log" 2> "$work/upstream-errors.log" &
  UP_PID=$!; pids+=("$UP_PID")
  UP=http://127.0.0.1:$UP_PORT
  wait_ready upstream "$UP/v2/" "$UP_PID"
}

REPO=bench/data
make_blob() { # file MiB -> prints the digest
  head -c $(( $2 * 1048576 )) /dev/urandom > "$1"
  echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}
push_blob() { # file digest
  local location
  location=$(curl -sS -f -X POST -D - -o /dev/null "$UP/v2/$REPO/blobs/uploads/" \
    | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [[ $location == http* ]] || location=$UP$location
  [[ $location == *\?* ]] && location+="&" || location+="?"
  curl -sS -f -T "$1" -H 'Content-Type: application/octet-stream' -o /dev/null "${location}digest=$2"
}

# Waits until the upstream's access log has not grown for 2 s (at most 60 s).
wait_quiet_upstream() {
  local lines=-1 quiet=0 deadline=$(( SECONDS + 60 ))
  while (( quiet < 4 && SECONDS < deadline )); do
    local now_lines; now_lines=$(wc -l < "$work/upstream.log")
    if (( now_lines == lines )); then quiet=$(( quiet + 1 )); else quiet=0; lines=$now_lines; fi
    sleep 0.5
  done
}

# S3Proxy (filesystem back end) on 127.0.0.1:$S3_PORT over $work/s3, with these buckets, its jar
# built first if missing ($S3PROXY_JAR); identity bench, credential bench-secret.
start_s3proxy() { # bucket...
  [[ -f $S3PROXY_JAR ]] || (cd "$repo" && mvn -B -q -pl proxy-core process-test-resources)
  local bucket
  for bucket in "$@"; do mkdir -p "$work/s3/$bucket"; done
  printf '%s\n' "s3proxy.endpoint=http://127.0.0.1:$S3_PORT" "s3proxy.authorization=aws-v2-or-v4" \
    "s3proxy.identity=bench" "s3proxy.credential=bench-secret" "jclouds.provider=filesystem" \
    "jclouds.filesystem.basedir=$work/s3" > "$work/s3proxy.conf"
  java -Xmx512m -jar "$S3PROXY_JAR" --properties "$work/s3proxy.conf" > "$work/s3proxy.log" 2>&1 &
  S3_PID=$!; pids+=("$S3_PID")
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.2; done
}
