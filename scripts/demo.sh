#!/usr/bin/env bash
# Builds Volley, starts a local demo receiver and volleyd with
# config/example.json, publishes config/sample-events.ndjson, and keeps
# running (Ctrl-C stops everything) so you can publish more events:
#   ./build/volley publish < config/sample-events.ndjson
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" --target volleyd volley
build="${VOLLEY_BUILD_DIR:-$root/build}"
cd "$root" # the example config keeps its queue in ./data

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$build/volleyd" --check-config config/example.json
"$build/volley" receive --port 9000 \
  --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --secret audit-secret \
  | sed -u 's/^/[receiver] /' &
pids+=($!)
"$build/volleyd" --config config/example.json 2>&1 | sed -u 's/^/[volleyd]  /' &
pids+=($!)

for _ in $(seq 1 100); do
  if "$build/volley" health >/dev/null 2>&1; then break; fi
  sleep 0.1
done
echo "[demo]     publishing config/sample-events.ndjson"
"$build/volley" publish < config/sample-events.ndjson | sed -u 's/^/[ack]      /'
echo "[demo]     running; Ctrl-C stops. Publish more with: $build/volley publish < config/sample-events.ndjson"
echo "[demo]     or over HTTP: curl -s http://127.0.0.1:7401/v1/health; curl -s http://127.0.0.1:7401/metrics"
wait
