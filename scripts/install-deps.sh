#!/usr/bin/env bash
# Installs the Debian packages Volley builds and tests with, when missing.
set -euo pipefail
packages=(g++ cmake make libcaf-dev libcurl4-openssl-dev rapidjson-dev libssl-dev
          liblmdb-dev libboost-test-dev libboost-dev clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
