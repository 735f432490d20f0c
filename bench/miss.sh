#!/usr/bin/env bash
# Benchmarks the miss path: a cold blob fetched through regmirror against the same blob fetched
# with curl straight from the upstream registry, through docker-registry in proxy mode and through
# nginx as a caching proxy, all in one run. One client on a cold blob (median of runs, each run a
# new blob), then N clients at once on one cold blob. Prints the ratios against the targets of
# issue 12 and writes them with the raw measurements to bench/results/<date>-miss.txt. Only
# 127.0.0.1 is ever contacted. BENCH_COMPARE_JAR adds an earlier build of regmirror ("before"). See
# bench/README.md, "The miss path".
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

# ---- knobs -----------------------------------------------------------------------------------
BLOB_MIB=${BENCH_BLOB_MIB:-1024}
RUNS=${BENCH_MISS_RUNS:-3}
COLD_CLIENTS=${BENCH_COLD_CLIENTS:-20}
WARM_MIB=${BENCH_WARM_MIB:-256}
HEAP=${BENCH_HEAP:-256m}
EXTRA_JAVA_OPTS=${BENCH_JAVA_OPTS:-}
COMPARE_JAR=${BENCH_COMPARE_JAR:-}
COMPARE_JAVA_OPTS=${BENCH_COMPARE_JAVA_OPTS:-}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}
RECYCLE_MIB=${BENCH_RECYCLE_MIB:-2048}

. "$here/lib.sh"
need docker-registry docker-registry
need nginx nginx-light
need curl curl
need python3 python3
need java openjdk-17-jdk-headless
need sha256sum coreutils
check_tools

# One warm-up blob, RUNS blobs for one client each, one blob for the clients at once; the upstream
# holds each once, each mirror caches each once.
caches=4; [[ -n $COMPARE_JAR ]] && caches=5 # the upstream, and each mirror caching every blob
make_work $(( (BLOB_MIB * (RUNS + 1) + WARM_MIB) * caches + RECYCLE_MIB + 64 ))
read -r UP_PORT RM_PORT PX_PORT NG_PORT AD_PORT CM_PORT CA_PORT < <(free_ports 7)
start_upstream
say "generating and pushing $(( RUNS + 1 )) blobs of ${BLOB_MIB} MiB and a ${WARM_MIB} MiB warm-up blob"
WARM=$(make_blob "$work/blob" "$WARM_MIB"); push_blob "$work/blob" "$WARM"
BLOBS=()
for i in $(seq $(( RUNS + 1 ))); do
  d=$(make_blob "$work/blob" "$BLOB_MIB"); push_blob "$work/blob" "$d"; BLOBS+=("$d")
done
rm "$work/blob"
BYTES=$(( BLOB_MIB * 1048576 ))

# ---- the servers -----------------------------------------------------------------------------
say "starting regmirror (JAVA_OPTS=-Xmx$HEAP $EXTRA_JAVA_OPTS), docker-registry in proxy mode, nginx as a caching proxy"
(cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP $EXTRA_JAVA_OPTS" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$RM_PORT" \
  REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$AD_PORT" \
  REGMIRROR_CACHE_DIR="$work/regmirror" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
  "$repo/regmirror" serve > "$work/regmirror.log" 2>&1) &
RM_PID=$!; pids+=("$RM_PID")
# Another regmirror jar (an earlier build) to compare with, in the same run: "before".
if [[ -n $COMPARE_JAR ]]; then
  (cd "$work" && exec env REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$CM_PORT" \
    REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$CA_PORT" \
    REGMIRROR_CACHE_DIR="$work/before" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
    java -Xmx"$HEAP" $COMPARE_JAVA_OPTS -Dlogback.configurationFile="$repo/conf/logback.xml" -jar "$COMPARE_JAR" serve \
    > "$work/before.log" 2>&1) &
  pids+=($!); CM_PID=$!
fi
registry_config "$PX_PORT" "$work/proxy" "$UP" > "$work/proxy.yml"
docker-registry serve "$work/proxy.yml" > "$work/proxy.log" 2> "$work/proxy-errors.log" &
PX_PID=$!; pids+=("$PX_PID")
# nginx caches what it proxies; proxy_cache_lock makes clients of one cold blob wait for one
# upstream download and then read the cached file (its way of single-flight).
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
  proxy_cache_path $work/nginx-cache levels=1:2 keys_zone=blobs:10m max_size=64g inactive=1d use_temp_path=off;
  server {
    listen 127.0.0.1:$NG_PORT;
    location /v2/ {
      proxy_pass $UP;
      proxy_http_version 1.1;
      proxy_cache blobs;
      proxy_cache_valid 200 1d;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 600s;
      proxy_cache_lock_age 600s;
    }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
NG_PID=$!; pids+=("$NG_PID")
RM=http://127.0.0.1:$RM_PORT; PX=http://127.0.0.1:$PX_PORT; NG=http://127.0.0.1:$NG_PORT
wait_ready regmirror "$RM/v2/" "$RM_PID"
wait_ready proxy "$PX/v2/" "$PX_PID"
wait_ready nginx "$NG/v2/" "$NG_PID"
servers=(direct regmirror proxy nginx)
if [[ -n $COMPARE_JAR ]]; then
  wait_ready before "http://127.0.0.1:$CM_PORT/v2/" "$CM_PID"; servers+=(before)
  raw "compare jar=$COMPARE_JAR java_opts=$COMPARE_JAVA_OPTS"
fi
base_of() { case $1 in direct) echo "$UP" ;; regmirror) echo "$RM" ;; proxy) echo "$PX" ;; nginx) echo "$NG" ;;
  before) echo "http://127.0.0.1:$CM_PORT" ;; esac; }

# Warm-up: each server fetches one cold blob first (a fresh JVM compiles its miss path meanwhile).
for server in "${servers[@]}"; do
  curl -s -f -o /dev/null "$(base_of $server)/v2/$REPO/blobs/$WARM"
done

# ---- 1. one client, a cold blob --------------------------------------------------------------
# The order rotates from run to run so that a disturbance or a warmer page cache favours no one.
# Before each fetch, RECYCLE_MIB of scratch file is written and deleted: on a virtual machine
# whose free memory goes back to the host (a balloon's free page reporting), the first write into
# such memory is as slow as the disk (docs/performance.md, "Where a miss's time goes"); a mirror
# that has run a while writes into page cache it recycles. Whoever writes right after the scratch
# file was deleted writes into memory just freed, as a mirror in use does. 0 turns it off.
recycle_memory() {
  if (( RECYCLE_MIB > 0 )); then
    dd if=/dev/zero of="$work/recycle" bs=1M count="$RECYCLE_MIB" status=none
    rm -f "$work/recycle"
  fi
}
say "1/2 one client, cold ${BLOB_MIB} MiB blob, $RUNS runs (recycling $RECYCLE_MIB MiB of memory before each)"
n=${#servers[@]}
for i in $(seq "$RUNS"); do
  d=${BLOBS[$(( i - 1 ))]}
  for k in $(seq 0 $(( n - 1 ))); do
    server=${servers[$(( (k + i - 1) % n ))]}
    recycle_memory
    cpu_before=$(machine_cpu | cut -d' ' -f1)
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' \
      "$(base_of "$server")/v2/$REPO/blobs/$d")
    cpu_after=$(machine_cpu | cut -d' ' -f1)
    cpu=$(calc "$cpu_after - $cpu_before" 2)
    read -r code size ttfb total <<< "$out"
    raw "single server=$server run=$i status=$code bytes=$size ttfb_s=$ttfb total_s=$total machine_cpu_s=$cpu"
    say "single $server #$i: $code $size bytes, first byte ${ttfb}s, all ${total}s, ${cpu} core-seconds busy"
  done
done

# ---- 2. N clients at once, one cold blob -----------------------------------------------------
# For direct, N clients at once on the upstream: what the machine does with N copies of the blob.
say "2/2 $COLD_CLIENTS clients at once on one cold ${BLOB_MIB} MiB blob"
d=${BLOBS[$RUNS]}
for server in "${servers[@]}"; do
  mark=$(wc -l < "$work/upstream.log")
  start=$(now); clients=()
  for c in $(seq "$COLD_CLIENTS"); do
    curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
      "$(base_of "$server")/v2/$REPO/blobs/$d" > "$work/cold-$server-$c.txt" &
    clients+=($!)
  done
  wait "${clients[@]}"
  elapsed=$(calc "$(now) - $start" 3)
  ok=$(cat "$work"/cold-"$server"-*.txt | grep -c "^200 $BYTES " || true)
  slowest=$(cat "$work"/cold-"$server"-*.txt | awk '{ if ($3 > m) m = $3 } END { print m }')
  wait_quiet_upstream # the upstream logs a request when its response has ended
  gets=$(tail -n +"$(( mark + 1 ))" "$work/upstream.log" | awk -F'"' -v p="GET /v2/$REPO/blobs/$d " 'index($2, p) == 1 { n++ } END { print n + 0 }')
  raw "many server=$server clients=$COLD_CLIENTS complete=$ok seconds=$elapsed slowest_s=$slowest upstream_gets=$gets"
  say "many $server: $ok/$COLD_CLIENTS complete in ${elapsed}s"
done
got=$(curl -s -f "$RM/v2/$REPO/blobs/$d" | sha256sum | cut -d' ' -f1)
raw "verify server=regmirror blob_sha256_ok=$([[ sha256:$got == "$d" ]] && echo yes || echo NO)"
raw "memory regmirror_hwm_mib=$(( $(kib_of "$RM_PID" VmHWM) / 1024 )) heap_max=$HEAP"

# ---- report ----------------------------------------------------------------------------------
{
  echo "regmirror miss benchmark"
  echo "machine: $(nproc) cores, $(uname -sr); regmirror $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?')" \
    "(-Xmx$HEAP $EXTRA_JAVA_OPTS), $(java -version 2>&1 | head -n 1)"
  echo "         $(docker-registry --version | awk '{ print $2, $3 }'), $(nginx -v 2>&1 | sed 's/.*: //'), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v runs="$RUNS" -v clients="$COLD_CLIENTS" -v mib="$BLOB_MIB" -v servers="${servers[*]}" '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    $1 == "single" { total[f["server"]] = total[f["server"]] " " f["total_s"]; ttfb[f["server"]] = ttfb[f["server"]] " " f["ttfb_s"]
                     cpu[f["server"]] = cpu[f["server"]] " " f["machine_cpu_s"]
                     if (f["status"] != 200) bad[f["server"]]++ }
    $1 == "many" { many[f["server"]] = f["seconds"]; done_[f["server"]] = f["complete"]; gets[f["server"]] = f["upstream_gets"] }
    END {
      printf "\n1. One client, a cold %d MiB blob: median of %d runs (each a new blob), seconds\n", mib, runs
      printf "   %-10s %9s %9s %10s %11s %9s   every run (total)\n", "server", "first", "total", "x direct", "first-byte", "core-s"
      d = median(total["direct"]); dt = median(ttfb["direct"])
      n = split(servers, order, " ")
      for (k = 1; k <= n; k++) {
        s = order[k]; t = median(total[s]); b = median(ttfb[s])
        printf "   %-10s %9.4f %9.3f %10.2f %+10.1fms %9.2f  %s%s\n", s, b, t, t / d, 1000 * (b - dt), median(cpu[s]), total[s], bad[s] ? "  (" bad[s] " not 200)" : ""
      }
      r = median(total["regmirror"]) / d
      printf "   target: regmirror at most 1.15x direct: %.2fx %s\n", r, r <= 1.15 ? "PASS" : "FAIL"
      printf "   core-s: CPU seconds the whole machine (both cores: servers, upstream, client, kernel) was busy during the fetch\n"
      printf "\n2. %d clients at once on one cold %d MiB blob: seconds until all have it\n", clients, mib
      for (k = 1; k <= n; k++) {
        s = order[k]
        printf "   %-10s %3s/%d %8.2f s %7.2fx one direct fetch   %3d upstream GETs\n", s, done_[s], clients, many[s], many[s] / d, gets[s]
      }
      r = many["regmirror"] / d
      printf "   target: regmirror within 1.25x of one direct fetch: %.2fx %s\n", r, r <= 1.25 ? "PASS" : "FAIL"
    }' "$work/raw.txt"
  grep -E '^(verify|memory)' "$work/raw.txt" | sed 's/^/   /'
} > "$work/report.txt"
mkdir -p "$RESULTS_DIR"
result=$RESULTS_DIR/$(date +%Y%m%d-%H%M%S)-miss.txt
{ cat "$work/report.txt"; echo; echo "# raw measurements"; cat "$work/raw.txt"; } > "$result"
cat "$work/report.txt"
echo
echo "raw numbers: $result"
