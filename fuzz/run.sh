#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time:
#   fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
# A fixed seed and a fixed number of runs (VOLLEY_FUZZ_SEED, VOLLEY_FUZZ_RUNS)
# make CI's run repeatable: what passes here passes there. Set another seed,
# or more runs, to explore further. New inputs go to a scratch corpus, not
# into the repository's seeds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
out="${VOLLEY_FUZZ_DIR:-$root/build-fuzz}"
mkdir -p "$out"
command -v clang++ >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; }

# UB is recoverable only so that the suppression file can take effect;
# halt_on_error still stops at the first unsuppressed report.
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -I"$root" -DVOLLEY_VERSION=\"fuzz\")
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/fuzz/ubsan.supp"
build() { # name, sources...
  local name=$1; shift
  clang++ "${flags[@]}" "$@" -o "$out/$name" -lcurl -lcrypto
}
build ingress_line_fuzzer "$root/fuzz/ingress_line_fuzzer.cpp" "$root/protocol/ingress_line.cpp" \
  "$root/protocol/json_text.cpp" "$root/time/timestamp.cpp"
build config_fuzzer "$root/fuzz/config_fuzzer.cpp" "$root/config/config_loader.cpp" \
  "$root/signing/signature.cpp" "$root/signing/legacy_signature_header.cpp"

for target in ingress_line config; do
  scratch="$out/corpus-$target"
  echo "fuzzing $target for ${seconds}s"
  rm -rf "$scratch" && mkdir -p "$scratch" # the same start every time
  "$out/${target}_fuzzer" -seed="${VOLLEY_FUZZ_SEED:-1}" -runs="${VOLLEY_FUZZ_RUNS:-400000}" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -artifact_prefix="$out/" \
    -print_final_stats=1 "$scratch" "$root/fuzz/corpus/$target" 2>"$out/$target.log" ||
    { tail -50 "$out/$target.log"; echo "fuzz: $target found a failure (input saved in $out)"; exit 1; }
  grep -E "stat::number_of_executed_units" "$out/$target.log" || true
done
echo "fuzz: no failures"
