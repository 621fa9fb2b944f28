#!/usr/bin/env bash
# Runs h2spec against a real `strait serve` on loopback, in front of the
# demo's gRPC service, and fails unless every case passes.
set -euo pipefail
strait=$1 h2spec=$2
log=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$log"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1"; cat "$log"/*.out; exit 1
}
# The demo brings the upstream; h2spec talks to a separate `strait serve`.
"$strait" demo --listen "127.0.0.1:$(free_port)" >"$log/demo.out" 2>&1 &
for _ in $(seq 100); do
  upstream=$(grep -so 'gRPC service on [0-9.:]*' "$log/demo.out" | awk '{print $NF}') && [ -n "$upstream" ] && break
  sleep 0.1
done
port=$(free_port)
"$strait" serve --listen "127.0.0.1:$port" --upstream "$upstream" \
  --descriptors "$(dirname "$0")/../internal/demo/bookstore.pb" >"$log/serve.out" 2>&1 &
wait_port "$port"
"$h2spec" -h 127.0.0.1 -p "$port" -o 2 | tr '\r' '\n' >"$log/h2spec.out" || true
grep -E 'tests, .* passed' "$log/h2spec.out" | tail -1
if ! tail -3 "$log/h2spec.out" | grep -qE ' 0 failed'; then
  grep -B2 -A8 -E '×|failed' "$log/h2spec.out" | head -80
  echo "h2spec: failures (see above)"
  exit 1
fi
