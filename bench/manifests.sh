#!/usr/bin/env bash
# Benchmarks cached manifests: wrk GETs one cached manifest by tag and by digest from regmirror and
# the same bytes as a static file from nginx, in interleaved rounds, and reports requests/s with
# regmirror's ratio to nginx against issue 12's target (0.7x). BENCH_COMPARE_JAR adds an earlier
# build of regmirror ("before") to the same rounds. Writes the table and the raw measurements to
# bench/results/<date>-manifests.txt. Only 127.0.0.1 is ever contacted. See bench/README.md,
# "Cached manifests".
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

# ---- knobs -----------------------------------------------------------------------------------
WARMUP=${BENCH_WRK_WARMUP:-20}
SECONDS_EACH=${BENCH_WRK_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_WRK_THREADS:-1}
CONNECTIONS=${BENCH_WRK_CONNECTIONS:-64}
HEAP=${BENCH_HEAP:-256m}
EXTRA_JAVA_OPTS=${BENCH_JAVA_OPTS:-}
COMPARE_JAR=${BENCH_COMPARE_JAR:-}
COMPARE_JAVA_OPTS=${BENCH_COMPARE_JAVA_OPTS:-}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}

. "$here/lib.sh"
need docker-registry docker-registry
need nginx nginx-light
need wrk wrk
need curl curl
need python3 python3
need java openjdk-17-jdk-headless
need sha256sum coreutils
check_tools

make_work 64
read -r UP_PORT RM_PORT NG_PORT AD_PORT CM_PORT CA_PORT < <(free_ports 6)
start_upstream

# ---- one image: a config blob, a 1 MiB layer, a schema 2 manifest tagged "bench" -------------
say "pushing one image to the upstream"
layer=$(make_blob "$work/layer" 1); push_blob "$work/layer" "$layer"; rm "$work/layer"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' "$layer" > "$work/config.json"
config=sha256:$(sha256sum "$work/config.json" | cut -d' ' -f1)
push_blob "$work/config.json" "$config"
MT=application/vnd.docker.distribution.manifest.v2+json
mkdir -p "$work/www/v2/$REPO/manifests"
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}' \
  "$MT" "$(stat -c %s "$work/config.json")" "$config" 1048576 "$layer" > "$work/manifest"
MANIFEST=sha256:$(sha256sum "$work/manifest" | cut -d' ' -f1)
curl -sS -f -X PUT -H "Content-Type: $MT" --data-binary "@$work/manifest" -o /dev/null "$UP/v2/$REPO/manifests/bench"
# nginx serves the same bytes under the same paths, by tag and by digest.
cp "$work/manifest" "$work/www/v2/$REPO/manifests/bench"
cp "$work/manifest" "$work/www/v2/$REPO/manifests/$MANIFEST"
raw "manifest=$MANIFEST bytes=$(stat -c %s "$work/manifest")"

# ---- the servers -----------------------------------------------------------------------------
say "starting regmirror (JAVA_OPTS=-Xmx$HEAP $EXTRA_JAVA_OPTS) and nginx"
(cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP $EXTRA_JAVA_OPTS" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$RM_PORT" \
  REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$AD_PORT" \
  REGMIRROR_CACHE_DIR="$work/regmirror" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
  "$repo/regmirror" serve > "$work/regmirror.log" 2>&1) &
RM_PID=$!; pids+=("$RM_PID")
if [[ -n $COMPARE_JAR ]]; then
  (cd "$work" && exec env REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$CM_PORT" \
    REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$CA_PORT" \
    REGMIRROR_CACHE_DIR="$work/before" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
    java -Xmx"$HEAP" $COMPARE_JAVA_OPTS -Dlogback.configurationFile="$repo/conf/logback.xml" -jar "$COMPARE_JAR" serve \
    > "$work/before.log" 2>&1) &
  CM_PID=$!; pids+=("$CM_PID")
fi
# As bench/run.sh's: the access log on, keep-alive unbounded, the file from the page cache.
cat > "$work/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-errors.log warn;
events { worker_connections 1024; }
http {
  access_log $work/nginx.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type $MT;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $work/www;
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
NG_PID=$!; pids+=("$NG_PID")
RM=http://127.0.0.1:$RM_PORT; NG=http://127.0.0.1:$NG_PORT
wait_ready regmirror "$RM/v2/" "$RM_PID"
wait_ready nginx "$NG/v2/$REPO/manifests/bench" "$NG_PID"
servers=(regmirror nginx)
if [[ -n $COMPARE_JAR ]]; then
  wait_ready before "http://127.0.0.1:$CM_PORT/v2/" "$CM_PID"; servers=(regmirror before nginx)
  raw "compare jar=$COMPARE_JAR java_opts=$COMPARE_JAVA_OPTS"
fi
for _ in $(seq 50); do [[ -n $(pgrep -P "$NG_PID") ]] && break; sleep 0.1; done
pids_of() { case $1 in regmirror) echo "$RM_PID" ;; before) echo "$CM_PID" ;;
  nginx) echo "$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')" ;; esac; }
base_of() { case $1 in regmirror) echo "$RM" ;; before) echo "http://127.0.0.1:$CM_PORT" ;; nginx) echo "$NG" ;; esac; }
url_of() { # server kind
  case $2 in tag) echo "$(base_of "$1")/v2/$REPO/manifests/bench" ;; digest) echo "$(base_of "$1")/v2/$REPO/manifests/$MANIFEST" ;; esac
}
ACCEPT="Accept: $MT, application/vnd.oci.image.manifest.v1+json"

# ---- warm-up: each server caches the manifest, then wrk load while the JIT compiles ----------
for server in "${servers[@]}"; do
  for kind in tag digest; do
    got=$(curl -s -f -H "$ACCEPT" "$(url_of "$server" "$kind")" | sha256sum | cut -d' ' -f1)
    [[ sha256:$got == "$MANIFEST" ]] || { echo "bench: $server served a different manifest by $kind" >&2; exit 1; }
  done
  say "warming up $server: ${WARMUP}s by tag, ${WARMUP}s by digest"
  for kind in tag digest; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "$ACCEPT" "$(url_of "$server" "$kind")" > "$work/wrk.txt" 2>&1
    raw "warmup server=$server kind=$kind requests=$(awk '/ requests in / { print $1 }' "$work/wrk.txt")"
  done
done
mark=$(wc -l < "$work/upstream.log")

# ---- rounds: every server and kind once per round, the order rotating --------------------------
n=${#servers[@]}
for round in $(seq "$ROUNDS"); do
  for k in $(seq 0 $(( n - 1 ))); do
    server=${servers[$(( (k + round - 1) % n ))]}
    for kind in tag digest; do
      spids=$(pids_of "$server")
      cpu0=$(cpu_of $spids); read -r busy0 _ <<< "$(machine_cpu)"
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency -H "$ACCEPT" "$(url_of "$server" "$kind")" \
        > "$work/wrk.txt" 2>&1
      cpu1=$(cpu_of $spids); read -r busy1 _ <<< "$(machine_cpu)"
      rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
      p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
      bad=$(awk '/Non-2xx/ { print $NF } /Socket errors/ { print "socket-errors" }' "$work/wrk.txt" | paste -sd' ')
      raw "manifest round=$round server=$server kind=$kind rps=$rps p99=$p99" \
        "requests=$(awk '/ requests in / { print $1 }' "$work/wrk.txt")" \
        "server_cpu_pct=$(calc "100 * ($cpu1 - $cpu0) / $SECONDS_EACH" 0)" \
        "machine_cpu_pct=$(calc "100 * ($busy1 - $busy0) / $SECONDS_EACH" 0) load=$(cut -d' ' -f1 /proc/loadavg)" \
        "errors=${bad:-none}"
      say "round $round $server by $kind: $rps req/s (p99 $p99) ${bad:+errors: $bad}"
    done
  done
done
raw "upstream_requests_during_rounds=$(( $(wc -l < "$work/upstream.log") - mark ))"
# The access log's meters: lines waiting now, and how often connections were held back for it.
raw "access_log_meters regmirror $(curl -s "$RM/metrics" | awk '/^regmirror_access_log_(pending|backpressure_total|lines_total) / { printf "%s=%s ", $1, $2 }')"
# Every response wrk counted has its access-log line (a few more: requests cut off at a run's end).
for server in regmirror before; do
  [[ $server == before && -z $COMPARE_JAR ]] && continue
  raw "access_log server=$server lines=$(grep -c 'regmirror.access - .* "GET /v2/'"$REPO"'/manifests/' "$work/$server.log" || true)" \
    "wrk_requests=$(awk -v s="server=$server" '($1 == "warmup" || $1 == "manifest") && index($0, s " ") {
      for (i = 2; i <= NF; i++) if ($i ~ /^requests=/) { sub(/requests=/, "", $i); n += $i } } END { print n + 0 }' "$work/raw.txt")"
done

# ---- report ----------------------------------------------------------------------------------
{
  echo "regmirror cached-manifest benchmark"
  echo "machine: $(nproc) cores, $(uname -sr); regmirror $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?')" \
    "(-Xmx$HEAP $EXTRA_JAVA_OPTS), $(java -version 2>&1 | head -n 1), $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "wrk -t$THREADS -c$CONNECTIONS, ${SECONDS_EACH}s per run, $ROUNDS rounds after ${WARMUP}s warm-up per server and kind;" \
    "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v servers="${servers[*]}" '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    $1 == "manifest" { k = f["server"] " " f["kind"]; rps[k] = rps[k] " " f["rps"]; cpu[k] = cpu[k] " " f["server_cpu_pct"] }
    END {
      printf "\n   %-10s %-7s %12s %9s %8s   every round (req/s)\n", "server", "by", "req/s", "x nginx", "CPU %"
      n = split(servers, order, " ")
      for (kk = 1; kk <= 2; kk++) {
        kind = kk == 1 ? "tag" : "digest"
        ng = median(rps["nginx " kind])
        for (s = 1; s <= n; s++) {
          k = order[s] " " kind
          printf "   %-10s %-7s %12.0f %9.2f %8.0f  %s\n", order[s], kind, median(rps[k]), median(rps[k]) / ng, median(cpu[k]), rps[k]
        }
        r = median(rps["regmirror " kind]) / ng
        printf "   target: regmirror at least 0.7x nginx by %s: %.2fx %s\n\n", kind, r, (r >= 0.7 ? "PASS" : "FAIL")
      }
    }' "$work/raw.txt"
  grep -E '^(upstream_requests|access_log)' "$work/raw.txt" | sed 's/^/   /'
} > "$work/report.txt"
mkdir -p "$RESULTS_DIR"
result=$RESULTS_DIR/$(date +%Y%m%d-%H%M%S)-manifests.txt
{ cat "$work/report.txt"; echo; echo "# raw measurements"; cat "$work/raw.txt"; } > "$result"
cat "$work/report.txt"
echo
echo "raw numbers: $result"
