#!/usr/bin/env bash
# `cpack -G DEB` in the build at $1, into a temp directory, then the .deb
# inspected: its Depends (from the libraries the binaries link), its files,
# conffiles and maintainer scripts; `apt-get install -s` resolves it against
# this machine's archive (simulated: nothing is installed); and the packaged
# volleyd, extracted, accepts the packaged config.
set -euo pipefail
build="$(cd "$1" && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in cpack dpkg-deb dpkg-shlibdeps apt-get; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found (dpkg-shlibdeps is in Debian's dpkg-dev); run scripts/install-deps.sh"
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$build" && cpack -G DEB -B "$tmp/out") >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
debs=("$tmp"/out/volley_*.deb)
[ -f "${debs[0]}" ] || { cat "$tmp/cpack.log" >&2; fail "cpack wrote no volley_*.deb"; }
deb="${debs[0]}"

dpkg-deb -I "$deb" >"$tmp/info"
depends="$(sed -n 's/^ Depends: //p' "$tmp/info")"
echo "Depends: $depends"
for lib in libc6 libstdc++6 libcurl4 liblmdb0 librdkafka1 libcaf-core libcaf-io libssl3; do
  [[ ", $depends" == *", $lib"* ]] || fail "Depends does not name $lib: $depends"
done
[[ "$depends" == *"systemd | adduser"* ]] || fail "Depends does not name 'systemd | adduser' (postinst)"
grep -q '^ Package: volley$' "$tmp/info" || fail "the package is not named volley"

dpkg-deb -c "$deb" >"$tmp/contents"
for f in ./usr/bin/volleyd ./usr/bin/volley ./etc/volley/volley.json \
         ./usr/lib/systemd/system/volleyd.service ./usr/lib/sysusers.d/volley.conf; do
  grep -q " $f\$" "$tmp/contents" || fail "the package holds no $f"
done
grep -q '^-rw-r----- root/root .* ./etc/volley/volley.json$' "$tmp/contents" ||
  fail "/etc/volley/volley.json is not 0640 in the package"

dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/volley/volley.json "$tmp/control/conffiles" || fail "/etc/volley/volley.json is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "no executable $script"
  sh -n "$tmp/control/$script" || fail "$script is not valid sh"
done

# Simulated (installs nothing): on this machine, and on a fresh one, where
# dpkg knows no package at all and every Depends is resolved from the
# archive's package lists down to libc6.
simulate() { # $1: a name for the messages, then apt-get options
  local what="$1"
  shift
  apt-get install -s -q "$@" "$deb" >"$tmp/apt.log" 2>&1 ||
    { cat "$tmp/apt.log" >&2; fail "apt-get install -s ($what)"; }
  grep -q '^Inst volley ' "$tmp/apt.log" ||
    { cat "$tmp/apt.log" >&2; fail "apt-get install -s ($what) would not install volley"; }
}
simulate "this machine"
if compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null; then
  : >"$tmp/empty-status"
  simulate "a fresh machine" -o Dir::State::status="$tmp/empty-status"
  echo "on a fresh machine apt would install $(grep -c '^Inst ' "$tmp/apt.log") packages, volley among them"
else
  echo "NOTE: no apt package lists (apt-get update): the fresh-machine simulation did not run"
fi

dpkg-deb -x "$deb" "$tmp/root"
"$tmp/root/usr/bin/volleyd" --version | grep -q '^volleyd ' || fail "the packaged volleyd --version"
"$tmp/root/usr/bin/volley" --version | grep -q '^volley ' || fail "the packaged volley --version"
"$tmp/root/usr/bin/volleyd" --check-config "$tmp/root/etc/volley/volley.json" ||
  fail "the packaged volleyd refuses the packaged /etc/volley/volley.json"
echo "ok: $(basename "$deb") inspected"
