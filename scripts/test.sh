#!/usr/bin/env bash
# Builds Volley and runs the whole test suite (CTest + Boost.Test).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
build="${VOLLEY_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j 2 "$@"
