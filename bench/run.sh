#!/usr/bin/env bash
# Volley benchmark harness: one command.
#
#   bench/run.sh [--quick] [--runs N]
#                [--scenarios ceil,a,b,c,d,e,f,g,h,flaky,capacity,cluster,log]
#                [--big N] [--perf] [--g-cells SUBSxLATENCYxCONC,...]
#
# Installs what is missing (Debian packages), builds volleyd and
# volley-mock-kafka (scripts/build.sh, RelWithDebInfo, into build/ or
# $VOLLEY_BUILD_DIR) and the bench programs
# (g++ straight into <build>/bench/; the main build does not know about them),
# then runs bench/run.py: all traffic stays on 127.0.0.1, every run is bounded
# in count and time, and every process started here is killed on exit.
# Results: the tables on stdout, bench/results/latest.json, bench/RESULTS.md
# (a run of some scenarios: bench/results/latest-<keys>.json and
# RESULTS-<keys>.md, leaving the whole table alone).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${VOLLEY_BUILD_DIR:-$root/build}"
bin="$build/bench"

# Kill whatever is still running from this script when it ends.
cleanup() {
  trap - EXIT INT TERM
  if [ -n "${runner_pid:-}" ] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true
    wait "$runner_pid" 2>/dev/null || true
  fi
  local kids
  kids="$(pgrep -P $$ || true)"
  [ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# --- packages ---------------------------------------------------------------
needed=(g++ wrk nginx-light openssl python3 libcurl4-openssl-dev librdkafka-dev)
want_perf=0
for a in "$@"; do [ "$a" = "--perf" ] && want_perf=1; done
[ "$want_perf" = 1 ] && needed+=(linux-perf)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's nginx package may start a system nginx on port 80; the bench
# starts its own on a free loopback port and leaves any other one alone.

# --- build --------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "bench: building volleyd and volley-mock-kafka into $build"
  VOLLEY_BUILD_DIR="$build" "$root/scripts/build.sh" --target volleyd volley-mock-kafka >/dev/null
fi
volleyd="$build/volleyd"
[ -x "$volleyd" ] || { echo "bench: $volleyd not found; build failed?" >&2; exit 1; }

mkdir -p "$bin"
cxx=(g++ -std=c++17 -O2 -g -Wall -Wextra -Werror)
build_tool() { # name, extra flags...
  local name="$1"; shift
  local src="$root/bench/$name.cpp"
  if [ ! -x "$bin/$name" ] || [ "$src" -nt "$bin/$name" ] \
     || [ "$root/bench/latency_histogram.hpp" -nt "$bin/$name" ]; then
    echo "bench: compiling $name"
    "${cxx[@]}" "$src" -o "$bin/$name" "$@"
  fi
}
build_tool sink -pthread
build_tool loadgen
build_tool curl_ceiling -lcurl
build_tool kafka_offsets -lrdkafka

# More descriptors: (d) opens many connections at 1000 subscribers, (g)
# keeps up to 16k transfers in flight (volleyd sizes its connection caches
# to the limit it finds).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

command="bench/run.sh${*:+ $*}"
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" "$root/bench/run.py" --bin-dir "$bin" --volleyd "$volleyd" \
  --mock-kafka "$build/volley-mock-kafka" --command "$command" "$@" &
runner_pid=$!
wait "$runner_pid"
