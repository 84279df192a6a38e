#!/usr/bin/env bash
# `cmake --install` of the build at $1, as a package would (prefix /usr) and
# as a hand install would (prefix /usr/local), each into a temp directory:
# the files land where the README says, the unit names the binary and config
# of its own install, systemd-analyze verify passes on it with its ExecStart
# binary in place, and the installed volleyd accepts the installed config.
set -euo pipefail
build="$(cd "$1" && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze not found: it is in Debian's systemd package; run scripts/install-deps.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# prefix /usr: what the Debian package holds.
root="$tmp/usr-root"
DESTDIR="$root" cmake --install "$build" --prefix /usr >"$tmp/install.log" ||
  { cat "$tmp/install.log" >&2; fail "cmake --install --prefix /usr"; }
for f in usr/bin/volleyd usr/bin/volley etc/volley/volley.json usr/lib/systemd/system/volleyd.service \
         usr/lib/sysusers.d/volley.conf usr/share/doc/volley/README.md; do
  [ -f "$root/$f" ] || fail "cmake --install --prefix /usr did not install /$f"
done
unit="$root/usr/lib/systemd/system/volleyd.service"
for line in "Type=simple" "User=volley" "Restart=on-failure" "StateDirectory=volley" \
            "ExecStart=/usr/bin/volleyd --config /etc/volley/volley.json" \
            "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
            "LimitNOFILE=65536"; do
  grep -qx -- "$line" "$unit" || fail "volleyd.service has no line '$line'"
done
grep -q '"path": "/var/lib/volley"' "$root/etc/volley/volley.json" ||
  fail "the example config's storage.path is not /var/lib/volley (the unit's StateDirectory)"
# The config holds secrets: not readable by others.
[ "$(stat -c %a "$root/etc/volley/volley.json")" = 640 ] ||
  fail "/etc/volley/volley.json is mode $(stat -c %a "$root/etc/volley/volley.json"), not 0640"

# Only loopback listeners and targets in the example.
if grep -Eo '"(host|url)": *"[^"]*"' "$root/etc/volley/volley.json" | grep -v '127\.0\.0\.1'; then
  fail "the example config names a host other than 127.0.0.1"
fi
"$root/usr/bin/volleyd" --check-config "$root/etc/volley/volley.json" ||
  fail "the installed volleyd refuses the installed config"

# systemd-analyze verify checks that ExecStart's binary exists on this
# machine (--root would need a whole systemd tree in the temp root): verify
# a copy whose ExecStart runs the binary just installed, otherwise the same.
mkdir "$tmp/verify"
sed "s|^ExecStart=/usr/bin/volleyd |ExecStart=$root/usr/bin/volleyd |" "$unit" >"$tmp/verify/volleyd.service"
if ! systemd-analyze verify "$tmp/verify/volleyd.service" >"$tmp/verify.log" 2>&1 || [ -s "$tmp/verify.log" ]; then
  cat "$tmp/verify.log" >&2
  fail "systemd-analyze verify volleyd.service (above; a warning fails too)"
fi
# The hardening, as systemd scores it: 0 (locked down) to 100; "OK" below 20.
if ! systemd-analyze security --offline=yes --threshold=20 "$tmp/verify/volleyd.service" >"$tmp/security.log" 2>&1; then
  grep -F "Overall exposure" "$tmp/security.log" >&2 || cat "$tmp/security.log" >&2
  fail "systemd-analyze security: volleyd.service is exposed above 2.0"
fi

# prefix /usr/local: the unit follows the install's own prefix.
local_root="$tmp/local-root"
DESTDIR="$local_root" cmake --install "$build" --prefix /usr/local >"$tmp/install.log" ||
  { cat "$tmp/install.log" >&2; fail "cmake --install --prefix /usr/local"; }
grep -qx "ExecStart=/usr/local/bin/volleyd --config /usr/local/etc/volley/volley.json" \
  "$local_root/usr/local/lib/systemd/system/volleyd.service" ||
  fail "with --prefix /usr/local the unit does not run /usr/local/bin/volleyd with /usr/local/etc/volley/volley.json"
[ -f "$local_root/usr/local/etc/volley/volley.json" ] || fail "no /usr/local/etc/volley/volley.json"
echo "ok: installed files, volleyd.service verified, example config valid"
