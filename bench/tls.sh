#!/usr/bin/env bash
# Benchmarks regmirror's cache hits over TLS: regmirror with BoringSSL (tls-provider=openssl) and
# regmirror with the JDK's TLS (tls-provider=jdk), both mirroring one local upstream registry,
# against nginx serving the same bytes as a static file over TLS with the same certificate, all
# in one run. Measures throughput over HTTP/1.1 and h2 and new TLS handshakes per second; prints a
# table with the ratios to nginx and writes it with the raw measurements to
# bench/results/<date>-tls.txt. Only 127.0.0.1 is ever contacted. See bench/README.md.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

# ---- knobs -----------------------------------------------------------------------------------
BLOB_MIB=${BENCH_BLOB_MIB:-1024}
if (( BLOB_MIB >= 512 )); then quick=0; else quick=1; fi
CONCURRENCY=${BENCH_CONCURRENCY:-1 8 64}
H2_STREAMS=${BENCH_TLS_H2_STREAMS:-8}
HIT_SECONDS=${BENCH_HIT_SECONDS:-$(( quick ? 1 : 5 ))}
HIT_REPEAT=${BENCH_HIT_REPEAT:-$(( quick ? 1 : 3 ))}
HIT_WARMUP=${BENCH_HIT_WARMUP:-$( (( quick )) && echo 0.5 || echo 1)}
CLIENT_THREADS=${BENCH_TLS_CLIENT_THREADS:-1}
HANDSHAKE_CLIENTS=${BENCH_TLS_HANDSHAKE_CLIENTS:-1 8}
JIT_WARMUP=${BENCH_TLS_JIT_WARMUP:-$(( quick ? 1 : 5 ))}
HANDSHAKE_WARMUP=${BENCH_TLS_HANDSHAKE_WARMUP:-$(( quick ? 2 : 20 ))}
NGINX_SSL_BUFFER=${BENCH_TLS_NGINX_SSL_BUFFER:-16k}
HEAP=${BENCH_HEAP:-256m}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}
OTHER_MAX=${BENCH_OTHER_MAX:-10}
RETRIES=${BENCH_RETRIES:-3}

# ---- tools -----------------------------------------------------------------------------------
. "$here/lib.sh"
need docker-registry docker-registry
need nginx nginx-light
need h2load nghttp2-client
need curl curl
need python3 python3
need java openjdk-17-jdk-headless
need sha256sum coreutils
need fincore util-linux
check_tools

make_work $(( BLOB_MIB * 4 + 64 ))
read -r UP_PORT OS_PORT JD_PORT NG_PORT OS_ADMIN JD_ADMIN < <(free_ports 6)
SERVERS="openssl jdk nginx"

raw "load at_start_1min=$(cut -d' ' -f1 /proc/loadavg) cores=$(nproc) other_max=$OTHER_MAX"
say "work directory $work; ports: upstream $UP_PORT, regmirror openssl $OS_PORT, regmirror jdk $JD_PORT, nginx $NG_PORT"
start_upstream

# ---- test data and certificate ---------------------------------------------------------------
say "generating and pushing a ${BLOB_MIB} MiB blob; regmirror tls init"
mkdir -p "$work/www"
BIG=$(make_blob "$work/www/blob" "$BLOB_MIB")
push_blob "$work/www/blob" "$BIG"
BLOB_BYTES=$(( BLOB_MIB * 1048576 ))
mkdir -p "$work/www/v2" && printf "{}" > "$work/www/v2/index.html" # nginx answers GET /v2/ as regmirror does
java -jar "$repo/proxy-cli/target/regmirror.jar" tls init --host localhost --ip 127.0.0.1 --dir "$work/tls" \
  > "$work/tls-init.log" 2>&1
CA=$work/tls/ca.crt
raw "blob_mib=$BLOB_MIB blob=$BIG certificate=$(openssl x509 -in "$work/tls/server.crt" -noout -text \
  | awk '/Public Key Algorithm/ { a = $NF } /ASN1 OID/ { c = $NF } END { print a "/" c }')"

# ---- the servers -----------------------------------------------------------------------------
say "starting regmirror twice (tls-provider openssl and jdk, JAVA_OPTS=-Xmx$HEAP) and nginx"
start_regmirror() { # provider port admin-port; TLS on the main listener, otherwise as bench/run.sh
  (cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$2" \
    REGMIRROR_TLS_CERTIFICATE="$work/tls/server.crt" REGMIRROR_TLS_PRIVATE_KEY="$work/tls/server.key" \
    CONFIG_FORCE_regmirror_server_tls__provider="$1" \
    REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$3" \
    REGMIRROR_CACHE_DIR="$work/regmirror-$1" REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" \
    REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
    "$repo/regmirror" serve > "$work/regmirror-$1.log" 2>&1) &
}
start_regmirror openssl "$OS_PORT" "$OS_ADMIN"
OS_PID=$!; pids+=("$OS_PID")
start_regmirror jdk "$JD_PORT" "$JD_ADMIN"
JD_PID=$!; pids+=("$JD_PID")
# nginx as a TLS file server: defaults but for the protocols, HTTP/2, and an explicit record
# buffer (16k is its default: full TLS records). sendfile does nothing under TLS here (no kTLS).
cat > "$work/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-errors.log warn;
events { worker_connections 1024; }
http {
  access_log $work/nginx.log;
  sendfile on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NG_PORT ssl http2;
    ssl_certificate $work/tls/server.crt;
    ssl_certificate_key $work/tls/server.key;
    ssl_protocols TLSv1.3 TLSv1.2;
    ssl_buffer_size $NGINX_SSL_BUFFER;
    root $work/www;
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
NG_PID=$!; pids+=("$NG_PID")
OS=https://127.0.0.1:$OS_PORT; JD=https://127.0.0.1:$JD_PORT; NG=https://127.0.0.1:$NG_PORT
wait_ready "regmirror (openssl)" "$OS/v2/" "$OS_PID" --cacert "$CA"
wait_ready "regmirror (jdk)" "$JD/v2/" "$JD_PID" --cacert "$CA"
wait_ready nginx "$NG/v2/" "$NG_PID" --cacert "$CA"
for _ in $(seq 50); do [[ -n $(pgrep -P "$NG_PID") ]] && break; sleep 0.1; done
NG_PIDS="$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')"
for pid in "$OS_PID" "$JD_PID"; do
  [[ $(readlink "/proc/$pid/exe") == */java ]] || { echo "bench: pid $pid is not regmirror's JVM" >&2; exit 1; }
done
# Which TLS code each JVM has loaded: BoringSSL is netty-tcnative's native library.
for server in openssl jdk; do
  [[ $server == openssl ]] && pid=$OS_PID || pid=$JD_PID
  raw "provider server=$server tcnative_loaded=$(grep -q netty_tcnative "/proc/$pid/maps" && echo yes || echo no)"
done

server_url() { case $1 in openssl) echo "$OS/v2/$REPO/blobs/$BIG" ;; jdk) echo "$JD/v2/$REPO/blobs/$BIG" ;; nginx) echo "$NG/blob" ;; esac; }
server_pids() { case $1 in openssl) echo "$OS_PID" ;; jdk) echo "$JD_PID" ;; nginx) echo "$NG_PIDS" ;; esac; }
server_port() { case $1 in openssl) echo "$OS_PORT" ;; jdk) echo "$JD_PORT" ;; nginx) echo "$NG_PORT" ;; esac; }
blob_file() { case $1 in nginx) echo "$work/www/blob" ;; *) find "$work/regmirror-$1" -type f -name "${BIG#sha256:}" ;; esac; }

# ---- warm: fill both caches, then settle -----------------------------------------------------
say "filling both regmirror caches from the upstream (one miss each), warming the JITs"
mark=$(wc -l < "$work/upstream.log")
for server in openssl jdk; do
  curl -s -f --cacert "$CA" -o /dev/null "$(server_url $server)"
done
wait_quiet_upstream
for server in openssl jdk; do
  [[ -n $(blob_file $server) ]] || { echo "bench: regmirror ($server) has not stored the blob" >&2; exit 1; }
done
gets=$(tail -n +"$(( mark + 1 ))" "$work/upstream.log" | grep -c "GET /v2/$REPO/blobs/$BIG " || true)
raw "fill upstream_blob_gets=$gets"
# Some load of each kind per server before anything is measured (the JIT; nginx too, so each server
# has served the file once from the page cache). The JDK's TLS handshake code keeps the JIT compiler
# busy for some 15 s of handshakes, hence the longer warm-up there.
for server in $SERVERS; do
  for protocol in h1 h2; do
    python3 "$here/tlsload.py" throughput "$(server_url $server)" --protocol "$protocol" --connections 8 \
      --seconds "$JIT_WARMUP" --warmup 0 > /dev/null
  done
  python3 "$here/tlsload.py" handshakes "127.0.0.1:$(server_port $server)" --cafile "$CA" --connections 8 \
    --seconds "$HANDSHAKE_WARMUP" --warmup 0 > /dev/null
done

# The three files must stay in the page cache (another process dropping it turns hits into disk
# reads): read them before each run, and repeat a run after which one was no longer all there.
FILES="$(blob_file openssl) $(blob_file jdk) $work/www/blob"
# (This VM runs DAMON, which pages out page cache it considers cold, a little even during a run:
# below 99% counts as disturbed.)
resident_pct() { # lowest share of the files that is in the page cache, in percent
  fincore --bytes --noheadings --output RES,SIZE $FILES | awk '{ p = 100 * $1 / $2; if (NR == 1 || p < m) m = p } END { printf "%.1f", m }'
}
measure() { # kind label server tlsload arguments... -> raw line "<kind> server=... <label> run=... <output>"
  local kind=$1 label=$2 server=$3 out other resident
  shift 3
  for attempt in $(seq 0 "$RETRIES"); do
    cat $FILES > /dev/null
    out=$(python3 "$here/tlsload.py" "$@" --pids "$(server_pids $server | xargs | tr ' ' ',')")
    resident=$(resident_pct)
    say "$kind $server $label: $out"
    other=$(sed 's/.*other_cpu_pct=\([0-9]*\).*/\1/' <<< "$out")
    (( (other <= OTHER_MAX && ${resident%.*} >= 99) || attempt == RETRIES )) && break
    raw "disturbed kind=$kind server=$server $label resident_pct=$resident $out"
    say "other processes took ${other}% CPU, files ${resident}% in the page cache: again"
  done
  raw "$kind server=$server $label resident_pct=$resident $out"
}

# ---- 1. cache-hit throughput over TLS ---------------------------------------------------------
# Runs are interleaved (openssl, jdk, nginx, openssl, ...) so that a disturbance hits all three
# alike; the report takes the median.
say "1/2 cache-hit throughput over TLS: $HIT_REPEAT x ${HIT_SECONDS}s per server, protocol and concurrency"
mark=$(wc -l < "$work/upstream.log")
shapes() { # protocol -> connections:streams for each row
  for c in $CONCURRENCY; do echo "$c:1"; done
  if [[ $1 == h2 ]] && (( H2_STREAMS > 1 )); then echo "1:$H2_STREAMS"; fi
}
for protocol in h1 h2; do
  for shape in $(shapes $protocol); do
    c=${shape%:*}; m=${shape#*:}
    threads=$(( CLIENT_THREADS < c ? CLIENT_THREADS : c ))
    for r in $(seq "$HIT_REPEAT"); do
      for server in $SERVERS; do
        measure hit "protocol=$protocol connections=$c streams=$m run=$r" "$server" throughput "$(server_url $server)" \
          --protocol "$protocol" --connections "$c" --streams "$m" --threads "$threads" \
          --seconds "$HIT_SECONDS" --warmup "$HIT_WARMUP"
      done
    done
  done
done
raw "hit-upstream upstream_requests=$(( $(wc -l < "$work/upstream.log") - mark ))"

# ---- 2. TLS handshakes per second ------------------------------------------------------------
say "2/2 new TLS connections (full handshakes): $HIT_REPEAT x ${HIT_SECONDS}s per server and concurrency"
for c in $HANDSHAKE_CLIENTS; do
  for r in $(seq "$HIT_REPEAT"); do
    for server in $SERVERS; do
      measure handshake "connections=$c run=$r" "$server" handshakes "127.0.0.1:$(server_port $server)" \
        --cafile "$CA" --connections "$c" --seconds "$HIT_SECONDS" --warmup "$HIT_WARMUP"
    done
  done
done

# ---- correctness and memory ------------------------------------------------------------------
say "checking the bytes served and reading peak memory"
for server in openssl jdk; do
  for protocol in http1.1 http2; do
    got=$(curl -s -f --cacert "$CA" "--$protocol" "$(server_url $server)" | sha256sum | cut -d' ' -f1)
    raw "verify server=$server protocol=$protocol blob_sha256_ok=$([[ sha256:$got == "$BIG" ]] && echo yes || echo NO)"
  done
done
ng_hwm=0; for p in $NG_PIDS; do ng_hwm=$(( ng_hwm + $(kib_of "$p" VmHWM) )); done
raw "memory openssl_hwm_mib=$(( $(kib_of "$OS_PID" VmHWM) / 1024 )) jdk_hwm_mib=$(( $(kib_of "$JD_PID" VmHWM) / 1024 ))" \
  "nginx_hwm_mib_sum=$(( ng_hwm / 1024 )) heap_max=$HEAP"

# ---- report ----------------------------------------------------------------------------------
env_line="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); \
regmirror $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?'), $(java -version 2>&1 | head -n 1); \
$(nginx -v 2>&1 | sed 's/.*: //') ($(nginx -V 2>&1 | awk '/running with/ { print "OpenSSL", $(NF - 3) }')), \
$(h2load --version | awk '{ print $2 }'), $(openssl version | awk '{ print $1, $2 }')"
"$here/tls_report.py" "$work/raw.txt" "$env_line" \
  "h2load -t$CLIENT_THREADS -c <conns> -m <streams>, ${HIT_SECONDS} s per run after ${HIT_WARMUP} s warm-up" \
  "bench/tlsload.py handshakes (Python ssl, OpenSSL $(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION.split()[1])'))" \
  > "$work/report.txt"
mkdir -p "$RESULTS_DIR"
result=$RESULTS_DIR/$(date +%Y%m%d-%H%M%S)-tls.txt
{ cat "$work/report.txt"; echo; echo "# raw measurements"; cat "$work/raw.txt"; } > "$result"
cat "$work/report.txt"
echo
echo "raw numbers: $result"
