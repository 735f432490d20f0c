#!/usr/bin/env bash
# Figures of `regmirror verify`: fills a cache directory with N random blobs of SIZE MiB (named by
# their sha256, as the mirror stores them), flips one byte in two of them, starts the built jar on
# it (no upstream is contacted) and runs `regmirror verify --wait` at the default rate (50M) and at
# RATE_FAST, printing the summaries and times. Needs proxy-cli/target/regmirror.jar (mvn package).
#   bench/verify.sh [N=40] [SIZE_MIB=25] [RATE_FAST=4G]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jar="$here/proxy-cli/target/regmirror.jar"
n=${1:-40}
size=${2:-25}
fast=${3:-4G}
work=$(mktemp -d /tmp/regmirror-verify-bench.XXXXXX)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cache="$work/cache"
mkdir -p "$cache/blobs/sha256"
for i in $(seq 1 "$n"); do
  head -c "$((size * 1024 * 1024))" /dev/urandom > "$work/blob"
  hex=$(sha256sum "$work/blob" | cut -c1-64)
  mkdir -p "$cache/blobs/sha256/${hex:0:2}"
  mv "$work/blob" "$cache/blobs/sha256/${hex:0:2}/$hex"
done
for f in $(find "$cache/blobs" -type f | head -2); do
  printf '\x00' | dd of="$f" bs=1 seek=12345 count=1 conv=notrunc status=none
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/app.conf" <<CONF
regmirror.server.host = "127.0.0.1"
regmirror.server.port = $port
regmirror.admin.port = $admin
regmirror.cache.directory = "$cache"
regmirror.upstreams.dockerhub.url = "http://127.0.0.1:9"
CONF
java -jar "$jar" serve --config "$work/app.conf" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin/admin/usage" > /dev/null && break
  sleep 0.2
done
echo "== $n blobs of $size MiB, 2 with a flipped byte; default rate (50M)"
start=$(date +%s.%N)
java -jar "$jar" verify --wait --server "http://127.0.0.1:$admin" || echo "(exit code $?)"
echo "wall: $(echo "$(date +%s.%N) - $start" | bc) s"
kill "$server"; wait "$server" 2>/dev/null || true
sed -i "/verify-rate/d" "$work/app.conf"
echo "regmirror.cache.verify-rate = $fast" >> "$work/app.conf"
java -jar "$jar" serve --config "$work/app.conf" >> "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin/admin/usage" > /dev/null && break
  sleep 0.2
done
echo "== again (the two corrupt ones are in quarantine now) at $fast"
start=$(date +%s.%N)
java -jar "$jar" verify --wait --server "http://127.0.0.1:$admin" || echo "(exit code $?)"
echo "wall: $(echo "$(date +%s.%N) - $start" | bc) s"
echo "quarantine: $(find "$cache/quarantine" -type f | wc -l) files"
