#!/usr/bin/env bash
# Cluster mode without a Kafka install: starts librdkafka's mock Kafka
# cluster (volley-mock-kafka), a receiver and three volleyd nodes in one
# consumer group, publishes events to all three, kills one node with kill -9
# while events keep coming, and shows the survivors taking its partitions
# over and every event arriving. Ctrl-C stops everything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh" --target volleyd volley volley-mock-kafka
build="${VOLLEY_BUILD_DIR:-$root/build}"
work="$(mktemp -d /tmp/volley-cluster-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${VOLLEY_DEMO_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { echo "[demo]     $*"; }

# The mock cluster: three brokers, both topics with six partitions.
mkfifo "$work/mock.in"
"$build/volley-mock-kafka" --brokers 3 --topic volley.events:6 --topic volley.changelog:6 \
  < "$work/mock.in" > "$work/mock.out" 2> "$work/mock.err" &
pids+=($!)
exec 3> "$work/mock.in" # keeps its stdin open
for _ in $(seq 1 100); do grep -q '^bootstrap=' "$work/mock.out" && break; sleep 0.1; done
brokers="$(sed -n 's/^bootstrap=//p' "$work/mock.out")"
say "mock Kafka cluster at $brokers (topics volley.events and volley.changelog, 6 partitions each)"

"$build/volley" receive --port 9000 --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
  > "$work/receiver.log" 2>&1 &
pids+=($!)

port_of() { # name
  for _ in $(seq 1 100); do
    local line
    line="$(grep -h "listening on" "$work/$1.log" 2>/dev/null || true)"
    [ -n "$line" ] && { echo "${line##*:}" | cut -d' ' -f1; return; }
    sleep 0.1
  done
}

start_node() { # name: the node's log goes to a file, its cluster lines to the screen
  local name=$1
  cat > "$work/$name.json" <<JSON
{
  "ingress": { "port": 0 },
  "storage": { "path": "$work/$name" },
  "monitor": { "interval_ms": 5000 },
  "allow_private_networks": true,
  "cluster": { "brokers": "$brokers", "node": "$name",
               "kafka": { "session.timeout.ms": "4000", "heartbeat.interval.ms": "500",
                          "fetch.wait.max.ms": "100" } },
  "subscribers": [
    { "name": "orders", "url": "http://127.0.0.1:9000/hooks/orders", "events": ["order.*"],
      "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }
  ]
}
JSON
  "$build/volleyd" --config "$work/$name.json" >> "$work/$name.log" 2>&1 &
  eval "pid_${name//-/_}=$!"
  pids+=($!)
}
for name in node-a node-b node-c; do start_node "$name"; done
for name in node-a node-b node-c; do eval "port_${name//-/_}=$(port_of "$name")"; done
say "three nodes listening: node-a :$port_node_a, node-b :$port_node_b, node-c :$port_node_c"
say "waiting for the group to share the six partitions..."
for _ in $(seq 1 300); do
  n=$(cat "$work"/node-*.log | grep -c "restored from" || true)
  [ "$n" -ge 6 ] && break
  sleep 0.1
done
grep -h "cluster:" "$work"/node-*.log | sed 's/^/[cluster]  /'

publish() { # port first last
  for i in $(seq "$2" "$3"); do echo "{\"type\":\"order.created\",\"id\":\"ord_$i\",\"data\":{\"order\":$i}}"; done |
    "$build/volley" publish --port "$1" > /dev/null
}
say "publishing 300 events, 100 to each node"
publish "$port_node_a" 1 100
publish "$port_node_b" 101 200
publish "$port_node_c" 201 300
for _ in $(seq 1 100); do [ "$(grep -c 'signature=valid' "$work/receiver.log")" -ge 300 ] && break; sleep 0.1; done
say "the receiver has $(grep -c 'signature=valid' "$work/receiver.log") signed deliveries"
sleep 2 # the changelog and the offset commits catch up (every 200 ms): a demo's pause
say "kill -9 node-c"
kill -9 "$pid_node_c"
say "publishing 300 more to node-a and node-b while the group takes node-c's partitions over"
publish "$port_node_a" 301 450
publish "$port_node_b" 451 600
for _ in $(seq 1 300); do
  [ "$(grep -o 'webhook-id=ord_[0-9]*' "$work/receiver.log" | sort -u | wc -l)" -ge 600 ] && break
  sleep 0.1
done
grep -h "cluster:" "$work"/node-a.log "$work"/node-b.log | tail -4 | sed 's/^/[cluster]  /'
say "the receiver has $(grep -o 'webhook-id=ord_[0-9]*' "$work/receiver.log" | sort -u | wc -l) of 600 events ($(grep -c 'signature=valid' "$work/receiver.log") deliveries: at least once each; an event in flight on the killed node is sent again by its new owner)"
say "running; Ctrl-C stops. Logs in $work"
wait
