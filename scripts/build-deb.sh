#!/usr/bin/env bash
# Builds the Debian package of volleyd and volley: build/deb/volley_<version>_<arch>.deb
# (build/ or $VOLLEY_BUILD_DIR). Its Depends come from the libraries the
# binaries link (dpkg-shlibdeps); install it with
#   apt install ./build/deb/volley_*.deb
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${VOLLEY_BUILD_DIR:-$root/build}"
# Installs missing packages (dpkg-dev for dpkg-shlibdeps among them) first.
VOLLEY_BUILD_DIR="$build" "$root/scripts/build.sh" --target volleyd volley
rm -f "$build"/deb/volley_*.deb
(cd "$build" && cpack -G DEB -B "$build/deb")
ls "$build"/deb/volley_*.deb
