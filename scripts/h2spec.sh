#!/usr/bin/env bash
# Runs h2spec against a real `strait serve` on loopback, in front of the
# demo's upstream, and fails unless every case passes.
set -euo pipefail
strait=$1 h2spec=$2
log=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$log"' EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$strait" demo --listen "127.0.0.1:$port" >"$log/strait.out" 2>&1 &
for _ in $(seq 50); do
  (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
"$h2spec" -h 127.0.0.1 -p "$port" -o 2 | tr '\r' '\n' >"$log/h2spec.out" || true
grep -E 'tests, .* passed' "$log/h2spec.out" | tail -1
if ! tail -3 "$log/h2spec.out" | grep -qE ' 0 failed'; then
  grep -B2 -A8 -E '×|failed' "$log/h2spec.out" | head -80
  echo "h2spec: failures (see above)"
  exit 1
fi
