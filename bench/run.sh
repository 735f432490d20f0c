#!/usr/bin/env bash
# Benchmarks regmirror against the CNCF distribution registry in proxy mode (and nginx for cache
# hits), both mirroring one local upstream registry filled with generated blobs. Prints a table of
# the numbers, their ratios and the issue's targets, and writes it with the raw measurements to
# bench/results/<date>.txt. Only 127.0.0.1 is ever contacted. See bench/README.md.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

# ---- knobs -----------------------------------------------------------------------------------
BLOB_MIB=${BENCH_BLOB_MIB:-1024}
if (( BLOB_MIB >= 512 )); then quick=0; else quick=1; fi
MISS_MIB=${BENCH_MISS_MIB:-$(( BLOB_MIB / 4 > 0 ? BLOB_MIB / 4 : 1 ))}
MISS_RUNS=${BENCH_MISS_RUNS:-3}
COLD_CLIENTS=${BENCH_COLD_CLIENTS:-20}
CONCURRENCY=${BENCH_CONCURRENCY:-1 8 64}
HIT_SECONDS=${BENCH_HIT_SECONDS:-$(( quick ? 1 : 5 ))}
HIT_REPEAT=${BENCH_HIT_REPEAT:-$(( quick ? 1 : 3 ))}
HIT_CLIENT=${BENCH_HIT_CLIENT:-discard}
WRK_SECONDS=${BENCH_WRK_SECONDS:-$(( quick ? 2 : 15 ))}
HIT_WARMUP=${BENCH_HIT_WARMUP:-$( (( quick )) && echo 0.5 || echo 1)}
WRK_WARMUP=${BENCH_WRK_WARMUP:-$(( quick ? 1 : 20 ))}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
WRK_CONNECTIONS=${BENCH_WRK_CONNECTIONS:-32}
HEAP=${BENCH_HEAP:-256m}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}
OTHER_MAX=${BENCH_OTHER_MAX:-10}
RETRIES=${BENCH_RETRIES:-3}

# ---- tools -----------------------------------------------------------------------------------
. "$here/lib.sh"
need docker-registry docker-registry
need nginx nginx-light
need wrk wrk
need curl curl
need python3 python3
need java openjdk-17-jdk-headless
need jstat openjdk-17-jdk-headless
need jcmd openjdk-17-jdk-headless
need sha256sum coreutils
check_tools

# ---- work directory, processes, cleanup ------------------------------------------------------
make_work $(( BLOB_MIB * 4 + MISS_MIB * MISS_RUNS * 3 + 64 ))
read -r UP_PORT RM_PORT PX_PORT NG_PORT AD_PORT < <(free_ports 5)

# ---- upstream registry -----------------------------------------------------------------------
raw "load at_start_1min=$(cut -d' ' -f1 /proc/loadavg) cores=$(nproc) other_max=$OTHER_MAX"
say "work directory $work; ports: upstream $UP_PORT, regmirror $RM_PORT (admin $AD_PORT), proxy $PX_PORT, nginx $NG_PORT"
start_upstream

# ---- test data -------------------------------------------------------------------------------
mkdir -p "$work/www"
say "generating and pushing a ${BLOB_MIB} MiB blob and $MISS_RUNS blobs of ${MISS_MIB} MiB"
BIG=$(make_blob "$work/www/blob" "$BLOB_MIB")
push_blob "$work/www/blob" "$BIG"
MISS=()
for i in $(seq "$MISS_RUNS"); do
  d=$(make_blob "$work/miss-$i" "$MISS_MIB"); push_blob "$work/miss-$i" "$d"; rm "$work/miss-$i"; MISS+=("$d")
done
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' "$BIG" > "$work/config.json"
CONFIG=sha256:$(sha256sum "$work/config.json" | cut -d' ' -f1)
push_blob "$work/config.json" "$CONFIG"
MT=application/vnd.docker.distribution.manifest.v2+json
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}' \
  "$MT" "$(stat -c %s "$work/config.json")" "$CONFIG" $(( BLOB_MIB * 1048576 )) "$BIG" > "$work/www/manifest"
MANIFEST=sha256:$(sha256sum "$work/www/manifest" | cut -d' ' -f1)
curl -sS -f -X PUT -H "Content-Type: $MT" --data-binary "@$work/www/manifest" -o /dev/null "$UP/v2/$REPO/manifests/bench"
BLOB_BYTES=$(( BLOB_MIB * 1048576 ))
raw "blob_mib=$BLOB_MIB blob=$BIG manifest=$MANIFEST miss_mib=$MISS_MIB miss=${MISS[*]}"

# ---- the servers -----------------------------------------------------------------------------
say "starting regmirror (JAVA_OPTS=-Xmx$HEAP), docker-registry in proxy mode and nginx"
# The admin listener (versions that have one) goes to a free loopback port too.
(cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$RM_PORT" \
  REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$AD_PORT" \
  REGMIRROR_CACHE_DIR="$work/regmirror" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
  "$repo/regmirror" serve > "$work/regmirror.log" 2>&1) &
RM_PID=$!; pids+=("$RM_PID")
registry_config "$PX_PORT" "$work/proxy" "$UP" > "$work/proxy.yml"
docker-registry serve "$work/proxy.yml" > "$work/proxy.log" 2> "$work/proxy-errors.log" &
PX_PID=$!; pids+=("$PX_PID")
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
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $work/www;
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
NG_PID=$!; pids+=("$NG_PID")
RM=http://127.0.0.1:$RM_PORT; PX=http://127.0.0.1:$PX_PORT; NG=http://127.0.0.1:$NG_PORT
wait_ready regmirror "$RM/v2/" "$RM_PID"
wait_ready proxy "$PX/v2/" "$PX_PID"
wait_ready nginx "$NG/manifest" "$NG_PID"
for _ in $(seq 50); do [[ -n $(pgrep -P "$NG_PID") ]] && break; sleep 0.1; done
NG_PIDS="$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')"
[[ $(readlink "/proc/$RM_PID/exe") == */java ]] || { echo "bench: pid $RM_PID is not regmirror's JVM" >&2; exit 1; }

# Memory over the whole run: VmRSS of regmirror and the proxy every second; jstat of the heap.
( while kill -0 "$RM_PID" 2> /dev/null && kill -0 "$PX_PID" 2> /dev/null; do
    echo "$(date +%s) $(kib_of "$RM_PID" VmRSS) $(kib_of "$PX_PID" VmRSS)"; sleep 1
  done > "$work/rss.tsv" 2> /dev/null ) &
pids+=($!); SAMPLER_PIDS="$!"
jstat -gc -t "$RM_PID" 1000 > "$work/jstat.log" 2>&1 &
pids+=($!); SAMPLER_PIDS+=" $!"
heap_mark() { # label: live heap after a full GC, from jstat's columns
  jcmd "$RM_PID" GC.run > /dev/null
  local line
  line=$(jstat -gc "$RM_PID" | tail -n 1)
  read -r s0c s1c s0u s1u ec eu oc ou _ <<< "$line"
  local used committed
  used=$(calc "($s0u + $s1u + $eu + $ou) / 1024" 1); committed=$(calc "($s0c + $s1c + $ec + $oc) / 1024" 1)
  raw "heap label=$1 live_mib=$used committed_mib=$committed rss_mib=$(( $(kib_of "$RM_PID" VmRSS) / 1024 ))"
}
heap_mark idle

# CPU that processes other than ours took during a phase: all cores' busy time minus kernel
# threads, the servers and the upstream, the memory samplers, and this script's finished children
# (curl, wrk, hitload.py, jcmd). Softirq ticks are charged to the process they interrupted too
# (on loopback, mostly ours), so they are not subtracted separately.
ours_cpu() { # run in this shell, not in $(...): `times` must see this shell's children
  times > "$work/times"
  ours_kids=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } }
    END { printf "%.2f", s }' "$work/times")
  ours_servers=$(calc "$(cpu_of "$UP_PID" "$RM_PID" "$PX_PID" $NG_PIDS) + $(cpu_of --children $SAMPLER_PIDS)" 2)
}
phase_begin() {
  read -r phase_busy phase_soft <<< "$(machine_cpu)"; ours_cpu; phase_kids=$ours_kids; phase_servers=$ours_servers
  phase_kernel=$(kernel_cpu); phase_t0=$(now)
}
phase_end() { # name
  local busy soft kids servers kernel seconds
  read -r busy soft <<< "$(machine_cpu)"; ours_cpu; kids=$ours_kids; servers=$ours_servers; kernel=$(kernel_cpu)
  seconds=$(calc "$(now) - $phase_t0" 1)
  local used other
  used="$busy - $phase_busy - ($kernel - $phase_kernel) - ($kids - $phase_kids) - ($servers - $phase_servers)"
  other=$(calc "100 * ($used) / $seconds" 0)
  raw "phase name=$1 seconds=$seconds kernel_cpu_pct=$(calc "100 * ($kernel - $phase_kernel) / $seconds" 0)" \
    "other_cpu_pct=$other"
}

# Waits (at most 120 s) until the proxy has stored the blob: besides one upstream download per
# client, it downloads the blob once more on its own to store it, and that one may end last.
wait_proxy_stored() {
  local hex=${1#sha256:} deadline=$(( SECONDS + 120 ))
  until [[ -f $work/proxy/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data ]] || (( SECONDS >= deadline )); do
    sleep 0.5
  done
}

# ---- 1. cold blob, 20 clients at once: bytes the upstream sent -------------------------------
cold_pull() { # label url
  local mark start elapsed ok bytes gets
  mark=$(wc -l < "$work/upstream.log")
  start=$(now)
  local clients=()
  for i in $(seq "$COLD_CLIENTS"); do
    curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$2/v2/$REPO/blobs/$BIG" > "$work/cold-$1-$i.txt" &
    clients+=($!)
  done
  wait "${clients[@]}"
  elapsed=$(calc "$(now) - $start" 2)
  ok=$(cat "$work"/cold-"$1"-*.txt | grep -c "^200 $BLOB_BYTES\$" || true)
  if [[ $1 == proxy ]]; then wait_proxy_stored "$BIG"; fi
  wait_quiet_upstream # the upstream logs a request when its response has ended
  read -r gets bytes < <(tail -n +"$(( mark + 1 ))" "$work/upstream.log" | awk -F'"' -v p="GET /v2/$REPO/blobs/$BIG " \
    'index($2, p) == 1 { split($3, f, " "); n++; s += f[2] } END { printf "%d %.0f\n", n, s }')
  raw "cold server=$1 clients=$COLD_CLIENTS complete=$ok seconds=$elapsed" \
    "upstream_gets=$gets upstream_bytes=$bytes blob_bytes=$BLOB_BYTES"
  say "cold $1: $ok/$COLD_CLIENTS complete in ${elapsed}s; upstream sent $gets GETs, $bytes bytes"
}
say "1/4 cold ${BLOB_MIB} MiB blob, $COLD_CLIENTS clients at once"
phase_begin; cold_pull regmirror "$RM"; phase_end cold-regmirror
phase_begin; cold_pull proxy "$PX"; phase_end cold-proxy
heap_mark after-cold

# ---- 2. cache-hit throughput -----------------------------------------------------------------
# Every server serves the same blob from the page cache. Runs are interleaved (regmirror, proxy,
# nginx, regmirror, ...) so that a disturbance hits all three alike; the report takes the median.
say "2/4 cache-hit throughput: $HIT_REPEAT x ${HIT_SECONDS}s per server and concurrency, client mode $HIT_CLIENT"
phase_begin
hit_url() { case $1 in regmirror) echo "$RM/v2/$REPO/blobs/$BIG" ;; proxy) echo "$PX/v2/$REPO/blobs/$BIG" ;; nginx) echo "$NG/blob" ;; esac; }
hit_pids() { case $1 in regmirror) echo "$RM_PID" ;; proxy) echo "$PX_PID" ;; nginx) echo "$NG_PIDS" ;; esac; }
mark=$(wc -l < "$work/upstream.log")
for server in regmirror proxy nginx; do
  curl -s -f -o /dev/null "$(hit_url $server)" # warm: each server has served the file once from the page cache
done
for c in $CONCURRENCY; do
  for r in $(seq "$HIT_REPEAT"); do
    for server in regmirror proxy nginx; do
      for attempt in $(seq 0 "$RETRIES"); do
        out=$(python3 "$here/hitload.py" "$(hit_url $server)" --connections "$c" --seconds "$HIT_SECONDS" \
          --mode "$HIT_CLIENT" --warmup "$HIT_WARMUP" --pids "$(hit_pids $server | xargs | tr ' ' ',')")
        say "hit $server c=$c #$r: $out"
        other=$(sed 's/.*other_cpu_pct=\([0-9]*\).*/\1/' <<< "$out")
        (( other <= OTHER_MAX || attempt == RETRIES )) && break
        raw "disturbed phase=hit server=$server connections=$c run=$r $out"
        say "other processes took ${other}% CPU: again"
      done
      raw "hit server=$server connections=$c run=$r $out"
    done
  done
done
raw "hit-upstream upstream_requests=$(( $(wc -l < "$work/upstream.log") - mark ))"
tail -n +"$(( mark + 1 ))" "$work/upstream.log" | sed 's/^/hit-upstream-line /' >> "$work/raw.txt"
phase_end hits
heap_mark after-hits

# ---- 3. manifest requests per second ---------------------------------------------------------
say "3/4 manifest GET by digest, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s"
phase_begin
ACCEPT="Accept: $MT, application/vnd.oci.image.manifest.v1+json"
wrk_pct() { calc "100 * ($1) / $WRK_SECONDS" 0; } # CPU seconds during a wrk run, as a percentage
for server in regmirror proxy nginx; do
  case $server in
    regmirror) url=$RM/v2/$REPO/manifests/$MANIFEST; spids=$RM_PID ;;
    proxy) url=$PX/v2/$REPO/manifests/$MANIFEST; spids=$PX_PID ;;
    nginx) url=$NG/manifest; spids=$NG_PIDS ;;
  esac
  got=$(curl -s -f -H "$ACCEPT" "$url" | sha256sum | cut -d' ' -f1)
  [[ sha256:$got == "$MANIFEST" ]] || { echo "bench: $server served a different manifest" >&2; exit 1; }
  # Warm-up: a fresh JVM reaches its steady manifest rate only after some 20 s of load (JIT).
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_WARMUP}s" -H "$ACCEPT" "$url" > /dev/null
  mark=$(wc -l < "$work/upstream.log")
  for attempt in $(seq 0 "$RETRIES"); do
    cpu0=$(cpu_of $spids); read -r busy0 soft0 <<< "$(machine_cpu)"; kernel0=$(kernel_cpu)
    wrk_cpu=$( { TIMEFORMAT='%U %S'; time wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency \
      -H "$ACCEPT" "$url" > "$work/wrk-$server.txt" 2> "$work/wrk-$server.err"; } 2>&1 | awk '{ print $1 + $2 }')
    cpu1=$(cpu_of $spids); read -r busy1 soft1 <<< "$(machine_cpu)"; kernel1=$(kernel_cpu)
    other=$(wrk_pct "$busy1 - $busy0 - ($kernel1 - $kernel0) - ($cpu1 - $cpu0) - $wrk_cpu")
    (( other <= OTHER_MAX || attempt == RETRIES )) && break
    raw "disturbed phase=manifest server=$server other_cpu_pct=$other" \
      "rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk-$server.txt")"
    say "manifest $server: other processes took ${other}% CPU: again"
  done
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk-$server.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk-$server.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk-$server.txt")
  bad=$(awk '/Non-2xx/ { print $NF } /Socket errors/ { print "socket-errors" }' "$work/wrk-$server.txt" | paste -sd' ')
  raw "manifest server=$server rps=$rps p50=$p50 p99=$p99" \
    "server_cpu_pct=$(wrk_pct "$cpu1 - $cpu0") machine_cpu_pct=$(wrk_pct "$busy1 - $busy0")" \
    "softirq_cpu_pct=$(wrk_pct "$soft1 - $soft0") wrk_cpu_pct=$(wrk_pct "$wrk_cpu")" \
    "kernel_cpu_pct=$(wrk_pct "$kernel1 - $kernel0") other_cpu_pct=$(( other < 0 ? 0 : other ))" \
    "upstream_requests=$(( $(wc -l < "$work/upstream.log") - mark )) errors=${bad:-none}"
  say "manifest $server: $rps req/s (p50 $p50, p99 $p99) ${bad:+errors: $bad}"
done
phase_end manifests
heap_mark after-manifests

# ---- 4. time to first byte on a miss ---------------------------------------------------------
say "4/4 time to first byte, $MISS_RUNS cold ${MISS_MIB} MiB blobs, then the same blob cached"
phase_begin
for i in $(seq "$MISS_RUNS"); do
  d=${MISS[$(( i - 1 ))]}
  if (( i % 2 )); then order="regmirror proxy"; else order="proxy regmirror"; fi
  for server in $order; do
    [[ $server == regmirror ]] && base=$RM || base=$PX
    for kind in miss hit; do
      [[ $kind == hit ]] && sleep 1 # let the fill's commit finish: a settled cache hit
      out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' "$base/v2/$REPO/blobs/$d")
      read -r code size ttfb total <<< "$out"
      raw "ttfb server=$server kind=$kind run=$i status=$code bytes=$size ttfb_s=$ttfb total_s=$total"
    done
  done
done
for i in $(seq "$MISS_RUNS"); do # nginx: the first byte of a file it serves from the page cache
  out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' "$NG/blob")
  read -r code size ttfb total <<< "$out"
  raw "ttfb server=nginx kind=hit run=$i status=$code bytes=$size ttfb_s=$ttfb total_s=$total"
done
phase_end time-to-first-byte
heap_mark end

# ---- correctness and memory ------------------------------------------------------------------
say "checking the bytes served and reading peak memory"
for server in regmirror proxy; do
  [[ $server == regmirror ]] && base=$RM || base=$PX
  got=$(curl -s -f "$base/v2/$REPO/blobs/$BIG" | sha256sum | cut -d' ' -f1)
  raw "verify server=$server blob_sha256_ok=$([[ sha256:$got == "$BIG" ]] && echo yes || echo NO)"
done
# Cross-check of the cold test: every upstream GET of the blob in the whole run, by client.
awk -F'"' -v p="GET /v2/$REPO/blobs/$BIG " '
  index($2, p) == 1 { ua = $6; gsub(/ /, "_", ua); split($3, f, " "); n[ua]++; s[ua] += f[2] }
  END { for (ua in n) printf "upstream-total agent=%s gets=%d bytes=%.0f\n", ua, n[ua], s[ua] }' "$work/upstream.log" >> "$work/raw.txt"
ng_hwm=0; for p in $NG_PIDS; do ng_hwm=$(( ng_hwm + $(kib_of "$p" VmHWM) )); done
raw "memory regmirror_hwm_mib=$(( $(kib_of "$RM_PID" VmHWM) / 1024 ))" \
  "proxy_hwm_mib=$(( $(kib_of "$PX_PID" VmHWM) / 1024 )) nginx_hwm_mib_sum=$(( ng_hwm / 1024 )) heap_max=$HEAP"
# jstat -gc -t columns: 2-9 S0C S1C S0U S1U EC EU OC OU (KiB), 14 YGC, 16 FGC.
raw "gc $(awk 'NR > 1 && $1 ~ /^[0-9.]+$/ {
    u = ($4 + $5 + $7 + $9) / 1024; if (u > m) m = u
    c = ($2 + $3 + $6 + $8) / 1024; if (c > mc) mc = c
    y = $14; f = $16 }
  END { printf "heap_used_max_mib=%.0f heap_committed_max_mib=%.0f young_gcs=%d full_gcs=%d", m, mc, y, f }' "$work/jstat.log")"
raw "rss $(awk '$2 && $3 { if ($2 > r) r = $2; if ($3 > p) p = $3; if (!r0) r0 = $2 }
  END { printf "regmirror_first_mib=%d regmirror_max_mib=%d proxy_max_mib=%d", r0 / 1024, r / 1024, p / 1024 }' "$work/rss.tsv")"

# ---- report ----------------------------------------------------------------------------------
env_line="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); \
regmirror $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?'), $(java -version 2>&1 | head -n 1); \
$(docker-registry --version | awk '{ print $2, $3 }'), $(nginx -v 2>&1 | sed 's/.*: //'), $( (wrk --version 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')"
"$here/report.py" "$work/raw.txt" "$env_line" \
  "bench/hitload.py --mode $HIT_CLIENT, ${HIT_SECONDS} s per run after ${HIT_WARMUP} s warm-up" \
  "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s after a ${WRK_WARMUP} s warm-up" > "$work/report.txt"
mkdir -p "$RESULTS_DIR"
result=$RESULTS_DIR/$(date +%Y%m%d-%H%M%S).txt
{ cat "$work/report.txt"; echo; echo "# raw measurements"; cat "$work/raw.txt"; } > "$result"
cat "$work/report.txt"
echo
echo "raw numbers: $result"
