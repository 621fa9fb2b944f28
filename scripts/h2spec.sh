#!/usr/bin/env bash
# Runs h2spec against a real `strait serve` on loopback, in front of the
# demo's gRPC service, and fails unless every case passes.
set -euo pipefail
strait=$1 h2spec=$2
log=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$log"' EXIT

# addr FILE PATTERN waits until strait prints the address after PATTERN.
addr() {
  for _ in $(seq 200); do
    a=$(grep -so "$2 [0-9.]*:[0-9]*" "$1" | head -1 | awk '{print $NF}')
    [ -n "$a" ] && { echo "$a"; return 0; }
    sleep 0.05
  done
  echo "strait did not start:" >&2; cat "$1" >&2; exit 1
}

# The demo brings the upstream; h2spec talks to a separate `strait serve`.
"$strait" demo --listen 127.0.0.1:0 >"$log/demo.out" 2>&1 &
upstream=$(addr "$log/demo.out" "gRPC service on")
"$strait" serve --listen 127.0.0.1:0 --upstream "$upstream" \
  --descriptors "$(dirname "$0")/../internal/demo/bookstore.pb" >"$log/serve.out" 2>&1 &
gateway=$(addr "$log/serve.out" "serving on")
"$h2spec" -h "${gateway%:*}" -p "${gateway##*:}" -o 5 | tr '\r' '\n' >"$log/h2spec.out" || true
grep -E 'tests, .* passed' "$log/h2spec.out" | tail -1
if ! tail -3 "$log/h2spec.out" | grep -qE ' 0 failed'; then
  grep -B2 -A8 -E '×|failed' "$log/h2spec.out" | head -80
  echo "h2spec: failures (see above)"
  exit 1
fi
