#!/usr/bin/env bash
# Benchmarks a cluster of regmirror nodes (issue 14) in one run: a herd of N clients on one cold
# blob spread over 3 regmirror nodes of one cluster (one S3Proxy bucket), the same herd on 1
# regmirror node (a bucket of its own), and the same herd spread over 3 independent docker-registry
# proxies (distribution's proxy.remoteurl) sharing one bucket through distribution's s3 driver. For
# each: the upstream blob GETs and bytes, and the seconds until every client has the blob. Then the
# cache-hit throughput of the 3 cluster nodes against the 1 node (the same N clients on the cached
# blob). All servers share this machine's cores: the figures compare, they do not scale. Writes the
# figures with the raw measurements to bench/results/<date>-cluster.txt. Only 127.0.0.1 is
# contacted. Needs the build (mvn -B -DskipTests package; S3Proxy's jar comes with
# process-test-resources).
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

BLOB_MIB=${BENCH_BLOB_MIB:-256}
CLIENTS=${BENCH_CLUSTER_CLIENTS:-30}
WARM_MIB=${BENCH_WARM_MIB:-32}
HEAP=${BENCH_HEAP:-256m}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$here/results}
KEEP=${BENCH_KEEP:-0}
S3PROXY_JAR=${BENCH_S3PROXY_JAR:-$repo/proxy-core/target/s3proxy/s3proxy.jar}
SECRET=bench-cluster-secret-0123456789

. "$here/lib.sh"
need docker-registry docker-registry
need curl curl
need java openjdk-17-jdk-headless
need sha256sum coreutils
need python3 python3
check_tools

# The upstream holds the blob once; the three buckets once each; three clients keep their copy.
make_work $(( (BLOB_MIB + WARM_MIB) * 8 + 64 ))
read -r UP_PORT S3_PORT C1 C2 C3 SN D1 D2 D3 A1 A2 A3 A4 < <(free_ports 13)
start_upstream
say "generating and pushing one blob of ${BLOB_MIB} MiB and a ${WARM_MIB} MiB warm-up blob"
BLOB=$(make_blob "$work/blob" "$BLOB_MIB"); push_blob "$work/blob" "$BLOB"
WARM=$(make_blob "$work/blob" "$WARM_MIB"); push_blob "$work/blob" "$WARM"; rm "$work/blob"
BYTES=$(( BLOB_MIB * 1048576 ))

say "starting S3Proxy (buckets cluster, single, distribution)"
start_s3proxy cluster single distribution

start_mirror() { # name port admin-port bucket [env...]
  local name=$1 port=$2 admin=$3 bucket=$4; shift 4
  printf '%s\n' "regmirror.storage { type = s3, s3 { endpoint = \"http://127.0.0.1:$S3_PORT\", path-style = true, bucket = $bucket } }" \
    > "$work/$name.conf"
  (cd "$work" && exec env JAVA_OPTS="-Xmx$HEAP" REGMIRROR_LISTEN_HOST=127.0.0.1 REGMIRROR_LISTEN_PORT="$port" \
    REGMIRROR_ADMIN_HOST=127.0.0.1 REGMIRROR_ADMIN_PORT="$admin" REGMIRROR_CACHE_DIR="$work/$name" \
    REGMIRROR_UPSTREAM_DOCKERHUB_URL="$UP" REGMIRROR_UPSTREAM_DOCKERHUB_TOKEN_REALM= \
    REGMIRROR_S3_ACCESS_KEY=bench REGMIRROR_S3_SECRET_KEY=bench-secret "$@" \
    "$repo/regmirror" serve --config "$work/$name.conf" > "$work/$name.log" 2>&1) &
  local pid=$!
  pids+=("$pid")
  eval "PID_$name=$pid"
  wait_ready "$name" "http://127.0.0.1:$port/v2/" "$pid"
}
say "starting 3 regmirror cluster nodes and 1 single node (JAVA_OPTS=-Xmx$HEAP)"
PEERS="127.0.0.1:$C1,127.0.0.1:$C2,127.0.0.1:$C3"
CLUSTER_PORTS=("$C1" "$C2" "$C3")
admins=("$A1" "$A2" "$A3")
for i in 0 1 2; do
  start_mirror "node$(( i + 1 ))" "${CLUSTER_PORTS[$i]}" "${admins[$i]}" cluster REGMIRROR_CLUSTER_ENABLED=true \
    REGMIRROR_CLUSTER_SELF="127.0.0.1:${CLUSTER_PORTS[$i]}" REGMIRROR_CLUSTER_PEERS="$PEERS" REGMIRROR_CLUSTER_SECRET="$SECRET"
done
start_mirror single "$SN" "$A4" single
for port in "${CLUSTER_PORTS[@]}"; do # every node sees all three live (at most 60 s)
  deadline=$(( SECONDS + 60 ))
  until curl -s "http://127.0.0.1:$port/metrics" | grep -q '^regmirror_cluster_nodes_live 3\.0'; do
    (( SECONDS < deadline )) || { echo "bench: node on $port does not see 3 live nodes" >&2; exit 1; }
    sleep 0.5
  done
done

say "starting 3 docker-registry proxies on one bucket (distribution's s3 driver)"
DIST_PORTS=("$D1" "$D2" "$D3")
for i in 0 1 2; do
  cat > "$work/dist$i.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  cache:
    blobdescriptor: inmemory
  s3:
    accesskey: bench
    secretkey: bench-secret
    region: us-east-1
    regionendpoint: http://127.0.0.1:$S3_PORT
    bucket: distribution
    secure: false
    v4auth: true
  redirect:
    disable: true
http:
  addr: 127.0.0.1:${DIST_PORTS[$i]}
proxy:
  remoteurl: $UP
EOF
  # The bucket is plain HTTP: a CA bundle from the environment would only stop distribution's AWS
  # SDK at start ("LoadCustomCABundleError ... transport unsupported type").
  env -u AWS_CA_BUNDLE docker-registry serve "$work/dist$i.yml" > "$work/dist$i.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_ready "dist$i" "http://127.0.0.1:${DIST_PORTS[$i]}/v2/" "$pid"
done

# Upstream GETs of the blob and their bytes in the upstream's access log since line $1.
upstream_blob() { # mark -> "gets bytes"
  tail -n +"$(( $1 + 1 ))" "$work/upstream.log" | awk -F'"' -v p="GET /v2/$REPO/blobs/$BLOB " '
    index($2, p) == 1 { n++; split($3, f, " "); b += f[2] } END { printf "%d %.0f\n", n, b }'
}

# N clients at once on the blob, client c on the (c mod k)th of the ports; three keep their copy
# to be checked. Prints "complete seconds slowest_s".
herd() { # label port...
  local label=$1; shift
  local ports=("$@") start clients=() c
  start=$(now)
  for c in $(seq "$CLIENTS"); do
    local out=/dev/null; (( c <= 3 )) && out=$work/got-$label-$c
    curl -s -o "$out" -w '%{http_code} %{size_download} %{time_total}\n' \
      "http://127.0.0.1:${ports[$(( (c - 1) % ${#ports[@]} ))]}/v2/$REPO/blobs/$BLOB" > "$work/$label-$c.txt" &
    clients+=($!)
  done
  wait "${clients[@]}"
  local elapsed; elapsed=$(calc "$(now) - $start" 3)
  local ok slowest
  ok=$(cat "$work/$label"-*.txt | grep -c "^200 $BYTES " || true)
  slowest=$(cat "$work/$label"-*.txt | awk '{ if ($3 > m) m = $3 } END { print m }')
  for c in 1 2 3; do
    if [[ -f $work/got-$label-$c ]]; then
      [[ sha256:$(sha256sum "$work/got-$label-$c" | cut -d' ' -f1) == "$BLOB" ]] || ok=$(( ok - 1 ))
      rm "$work/got-$label-$c"
    fi
  done
  echo "$ok $elapsed $slowest"
}

declare -A cold_ok cold_s cold_gets cold_bytes hit_ok hit_s
setups=(cluster3 single1 distribution3)
ports_of() {
  case $1 in
    cluster3) echo "${CLUSTER_PORTS[*]}" ;;
    single1) echo "$SN" ;;
    distribution3) echo "${DIST_PORTS[*]}" ;;
  esac
}
# Warm-up: fresh JVMs compile their miss, owner and hit paths on the warm-up blob, fetched through
# every node of every setup (a miss on the first, then owner or hit), then through each again.
say "warm-up: the ${WARM_MIB} MiB blob through every node, twice"
for setup in "${setups[@]}"; do
  for _ in 1 2; do
    for port in $(ports_of "$setup"); do
      curl -s -f -o /dev/null "http://127.0.0.1:$port/v2/$REPO/blobs/$WARM"
    done
  done
done
# The cluster nodes' sum of a counter of their /metrics (0 if none counted yet).
cluster_count() {
  for port in "${CLUSTER_PORTS[@]}"; do curl -s "http://127.0.0.1:$port/metrics"; done \
    | awk -v name="$1" 'index($0, name) == 1 { s += $2 } END { print s + 0 }'
}
say "1/2 $CLIENTS clients at once on the cold ${BLOB_MIB} MiB blob"
for setup in "${setups[@]}"; do
  mark=$(wc -l < "$work/upstream.log")
  asked_before=$(cluster_count 'regmirror_cluster_blob_requests_total{')
  read -r ok secs slowest < <(herd "cold-$setup" $(ports_of "$setup"))
  wait_quiet_upstream # the upstream logs a request when its response has ended
  if [[ $setup == cluster3 ]]; then
    raw "cold cluster3: blob requests made of the owner by the other nodes (one relay each, shared by their clients): $(( $(cluster_count 'regmirror_cluster_blob_requests_total{') - asked_before ))"
  fi
  read -r gets bytes < <(upstream_blob "$mark")
  cold_ok[$setup]=$ok; cold_s[$setup]=$secs; cold_gets[$setup]=$gets; cold_bytes[$setup]=$bytes
  raw "cold setup=$setup clients=$CLIENTS complete=$ok seconds=$secs slowest_s=$slowest upstream_gets=$gets upstream_bytes=$bytes"
  say "cold $setup: $ok/$CLIENTS complete in ${secs}s, $gets upstream GETs, $bytes upstream bytes"
done

say "2/2 $CLIENTS clients at once on the cached blob: 3 cluster nodes against 1 node"
sleep 2 # the last commits to the bucket
for setup in cluster3 single1; do
  mark=$(wc -l < "$work/upstream.log")
  read -r ok secs slowest < <(herd "hit-$setup" $(ports_of "$setup"))
  read -r gets bytes < <(upstream_blob "$mark")
  hit_ok[$setup]=$ok; hit_s[$setup]=$secs
  raw "hit setup=$setup clients=$CLIENTS complete=$ok seconds=$secs slowest_s=$slowest upstream_gets=$gets"
  say "hit $setup: $ok/$CLIENTS complete in ${secs}s"
done
raw "cluster relays started from an owner in the whole run, warm-up included (result=peer): $(cluster_count 'regmirror_blob_requests_total{result="peer"')"
for name in node1 node2 node3 single; do
  pid_var=PID_$name
  raw "memory $name hwm_mib=$(( $(kib_of "${!pid_var}" VmHWM) / 1024 )) heap_max=$HEAP"
done

mkdir -p "$RESULTS_DIR"
result="$RESULTS_DIR/$(date +%Y%m%d-%H%M%S)-cluster.txt"
mib_s() { calc "$CLIENTS * $BLOB_MIB / $1" 0; }
{
  echo "regmirror cluster benchmark, $(date -u +%FT%TZ)"
  echo "machine: $(nproc) cores, $(uname -sr); regmirror $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "one ${BLOB_MIB} MiB blob, $CLIENTS clients at once (client c on node c mod k); S3Proxy (filesystem back end) for every bucket"
  echo
  echo "1. cold blob: seconds until all clients have it, upstream blob GETs and bytes"
  printf '   %-14s %9s %9s %8s %14s %9s\n' setup complete seconds "x single" "upstream GETs" "MiB"
  for setup in "${setups[@]}"; do
    printf '   %-14s %6s/%-2d %9s %7sx %14s %9s\n' "$setup" "${cold_ok[$setup]}" "$CLIENTS" "${cold_s[$setup]}" \
      "$(calc "${cold_s[$setup]} / ${cold_s[single1]}" 2)" "${cold_gets[$setup]}" "$(calc "${cold_bytes[$setup]} / 1048576" 0)"
  done
  echo
  echo "2. cached blob: seconds until all clients have it, and the MiB/s delivered"
  for setup in cluster3 single1; do
    printf '   %-14s %6s/%-2d %9s s %8s MiB/s %7sx single\n' "$setup" "${hit_ok[$setup]}" "$CLIENTS" "${hit_s[$setup]}" \
      "$(mib_s "${hit_s[$setup]}")" "$(calc "${hit_s[single1]} / ${hit_s[$setup]}" 2)"
  done
  echo "--- raw"
  cat "$work/raw.txt"
} | tee "$result"
say "written to $result"
