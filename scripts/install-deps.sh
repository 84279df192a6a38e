#!/usr/bin/env bash
# Installs what Volley builds and tests with, when missing: Debian packages,
# and the browser test's npm packages (tests/browser, from its lock file).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
packages=(g++ cmake make libcaf-dev libcurl4-openssl-dev rapidjson-dev libssl-dev
          liblmdb-dev libboost-test-dev libboost-dev clang libclang-rt-14-dev chromium
          librdkafka-dev prometheus
          dpkg-dev  # dpkg-shlibdeps: the .deb's Depends (scripts/build-deb.sh)
          systemd)  # systemd-analyze: the packaging_install test verifies the unit
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm may come from elsewhere than Debian (a newer release):
# only a missing command asks for Debian's.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# playwright-core drives Debian's /usr/bin/chromium: it must never fetch a
# browser of its own. `npm ci` again only when the lock file changed.
browser="$root/tests/browser"
if [ ! -f "$browser/node_modules/.package-lock.json" ] ||
   [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  echo "installing the browser test's npm packages (tests/browser)"
  (cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline)
fi
