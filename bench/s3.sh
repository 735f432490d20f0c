#!/usr/bin/env bash
# Benchmarks the cache on S3 against the cache on the local disk, in one run: regmirror with
# storage.type = filesystem, with storage.type = s3 streaming hits, and with s3 answering hits by
# a 307 to a presigned URL (curl follows it), all on one S3 server (S3Proxy, the tests' S3 server,
# over its filesystem back end) and one docker-registry upstream. For each: a cold blob (a miss,
# median of runs, each run a new blob), the same blobs again (hits, median), and one cold blob of
# BENCH_BIG_MIB (1 GiB; the same blob for each mirror, read once from the upstream beforehand so
# that each finds it in the upstream's page cache). Each miss is timed as the client sees it (the
# last byte comes once the blob is verified); the next fetch waits for the miss's commit. Writes the figures and ratios against the
# filesystem to bench/results/<date>-s3.txt. Only 127.0.0.1 is contacted.
# Needs the build (mvn -B -DskipTests package; S3Proxy's jar comes with process-test-resources).
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

BLOB_MIB=${BENCH_BLOB_MIB:-256}
BIG_MIB=${BENCH_BIG_MIB:-1024}
RUNS=${BENCH_S3_RUNS:-3}
HEAP=${BENCH_HEAP:-256m}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}
S3PROXY_JAR=${BENCH_S3PROXY_JAR:-$repo/proxy-core/target/s3proxy/s3proxy.jar}

. "$here/lib.sh"
need docker-registry docker-registry
need curl curl
need java openjdk-17-jdk-headless
need sha256sum coreutils
need python3 python3
check_tools

# The upstream holds each blob once; the filesystem mirror, S3Proxy (two buckets) once each; the
# spools of the two S3 mirrors hold them for a minute.
make_work $(( (BLOB_MIB * (RUNS + 1) + BIG_MIB) * 6 + 64 ))
read -r UP_PORT S3_PORT FS_PORT SS_PORT SR_PORT A1 A2 A3 < <(free_ports 8)
start_upstream
say "generating and pushing $(( RUNS + 1 )) blobs of ${BLOB_MIB} MiB"
BLOBS=()
for i in $(seq $(( RUNS + 1 ))); do
  d=$(make_blob "$work/blob" "$BLOB_MIB"); push_blob "$work/blob" "$d"; BLOBS+=("$d")
done
say "generating and pushing one blob of ${BIG_MIB} MiB"
BIG=$(make_blob "$work/blob" "$BIG_MIB"); push_blob "$work/blob" "$BIG"
rm "$work/blob"

say "starting S3Proxy and three regmirrors (JAVA_OPTS=-Xmx$HEAP)"
start_s3proxy streamed redirected

start_mirror() { # name port admin-port storage-settings
  printf '%s\n' "$4" > "$work/$1.conf"
  (cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$2" \
    REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$3" REGMIRROR_CACHE_DIR="$work/$1" \
    REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
    REGMIRROR_S3_ACCESS_KEY=bench REGMIRROR_S3_SECRET_KEY=bench-secret \
    "$repo/regmirror" serve --config "$work/$1.conf" > "$work/$1.log" 2>&1) &
  local pid=$!
  pids+=("$pid")
  wait_ready "$1" "http://127.0.0.1:$2/v2/" "$pid"
}
S3="regmirror.storage { type = s3, s3 { endpoint = \"http://127.0.0.1:$S3_PORT\", path-style = true"
start_mirror filesystem "$FS_PORT" "$A1" "# the default storage"
start_mirror streamed "$SS_PORT" "$A2" "$S3, bucket = streamed } }"
start_mirror redirected "$SR_PORT" "$A3" "$S3, bucket = redirected, redirect = true } }"
servers=(filesystem streamed redirected)
port_of() { case $1 in filesystem) echo "$FS_PORT" ;; streamed) echo "$SS_PORT" ;; redirected) echo "$SR_PORT" ;; esac; }
# Waits until the server's fills are committed (on S3: the last part sent and the upload completed,
# which S3Proxy does by joining the parts), so that no commit runs under the next measurement.
committed() { # server
  local deadline=$(( SECONDS + 300 ))
  until curl -s "http://127.0.0.1:$(port_of "$1")/metrics" | grep -q '^regmirror_fills_inflight 0.0'; do
    (( SECONDS < deadline )) || { echo "bench: $1 still committing after 300 s" >&2; exit 1; }
    sleep 0.2
  done
}

# Warm-up: a fresh JVM compiles its miss and hit paths on the last blob, fetched twice.
for server in "${servers[@]}"; do
  for _ in 1 2; do curl -s -f -L -o /dev/null "http://127.0.0.1:$(port_of "$server")/v2/$REPO/blobs/${BLOBS[$RUNS]}"; done
  committed "$server"
done

fetch() { # kind server digest
  local out code size total
  out=$(curl -s -L -o "$work/got" -w '%{http_code} %{size_download} %{time_total}' \
    "http://127.0.0.1:$(port_of "$2")/v2/$REPO/blobs/$3")
  read -r code size total <<< "$out"
  if [[ $code != 200 || sha256:$(sha256sum "$work/got" | cut -d' ' -f1) != "$3" ]]; then
    echo "bench: $2 answered $code with the wrong bytes for $3" >&2
    exit 1
  fi
  rm "$work/got"
  raw "$1 server=$2 blob=$3 bytes=$size total_s=$total"
  say "$1 $2: $size bytes in ${total}s"
  echo "$total" >> "$work/$1-$2.txt"
  [[ $1 == hit ]] || committed "$2"
}
say "cold ${BLOB_MIB} MiB blobs, then the same blobs again, $RUNS runs, order rotating"
for i in $(seq "$RUNS"); do
  for k in 0 1 2; do fetch miss "${servers[$(( (k + i) % 3 ))]}" "${BLOBS[$(( i - 1 ))]}"; done
done
for i in $(seq "$RUNS"); do
  for k in 0 1 2; do fetch hit "${servers[$(( (k + i) % 3 ))]}" "${BLOBS[$(( i - 1 ))]}"; done
done
say "a cold ${BIG_MIB} MiB blob through each mirror, one after the other"
curl -s -f -o /dev/null "$UP/v2/$REPO/blobs/$BIG" # into the upstream's page cache, for all alike
for server in "${servers[@]}"; do fetch big "$server" "$BIG"; done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

mkdir -p "$RESULTS_DIR"
result="$RESULTS_DIR/$(date +%Y%m%d-%H%M%S)-s3.txt"
fs_miss=$(median "$work/miss-filesystem.txt")
fs_hit=$(median "$work/hit-filesystem.txt")
{
  echo "regmirror on S3 (S3Proxy, filesystem back end) against the local disk, $(date -u +%FT%TZ)"
  echo "blob ${BLOB_MIB} MiB, $RUNS runs, median seconds (ratio to filesystem); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  fs_big=$(cat "$work/big-filesystem.txt")
  printf '%-11s %10s %10s %12s\n' server miss hit "miss ${BIG_MIB}M"
  for server in "${servers[@]}"; do
    m=$(median "$work/miss-$server.txt"); h=$(median "$work/hit-$server.txt"); b=$(cat "$work/big-$server.txt")
    printf '%-11s %10s %10s %12s   (%sx, %sx, %sx)\n' "$server" "$m" "$h" "$b" "$(calc "$m / $fs_miss" 2)" \
      "$(calc "$h / $fs_hit" 2)" "$(calc "$b / $fs_big" 2)"
  done
  echo "upstream blob GETs: $(grep -c "GET /v2/$REPO/blobs/" "$work/upstream.log") (each mirror fetches each of the $(( RUNS + 2 )) blobs once, and the warm-up read of the big one: $(( 3 * (RUNS + 2) + 1 )))"
  echo "redirects answered: $(curl -s "http://127.0.0.1:$SR_PORT/metrics" | awk '/^regmirror_blob_redirects_total/ { s += $2 } END { print s + 0 }')"
  echo "--- raw"
  cat "$work/raw.txt"
} | tee "$result"
say "written to $result"
