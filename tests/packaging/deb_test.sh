#!/bin/bash
# Debian package test: builds mailtls-exporter_*.deb with cpack from a configured build
# directory, installs it on this machine, checks files, conffiles, the systemd unit
# (systemd-analyze verify) and the maintainer scripts, runs the installed binary the way the
# unit does (unprivileged, ExecStartPre check, ExecStart with $ARGS from the EnvironmentFile),
# reinstalls over a state file and an edited conffile, removes and purges, and checks that
# nothing is left. Needs root; exits 77 (CTest SKIP_RETURN_CODE) otherwise.
# usage: deb_test.sh <build-dir>
set -uo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "deb_test.sh: SKIP: needs root (it installs and purges the package with dpkg)"
  exit 77
fi
BUILD=$(realpath "${1:?usage: deb_test.sh <build-dir>}")
PKG=mailtls-exporter
UNIT=/lib/systemd/system/mailtls_exporter.service
STATE_LINK=/var/lib/mailtls_exporter
STATE_PRIVATE=/var/lib/private/mailtls_exporter
TMP=$(mktemp -d /tmp/mailtls-deb-test.XXXXXX)
chmod 755 "$TMP"
passed=0
failed=0
EXPORTER_PID=""
INSTALLED_BY_US=0
CREATED_PRIVATE_DIR=0

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() {  # check <description> <command...>
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
cleanup() {
  if [ -n "$EXPORTER_PID" ] && kill -0 "$EXPORTER_PID" 2>/dev/null; then
    kill -KILL "$EXPORTER_PID" 2>/dev/null
  fi
  if [ "$INSTALLED_BY_US" = 1 ] && dpkg-query -W "$PKG" >/dev/null 2>&1; then
    dpkg --purge "$PKG" >/dev/null 2>&1
  fi
  [ "$CREATED_PRIVATE_DIR" = 1 ] && rmdir /var/lib/private 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

is_installed() { [ "$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null)" = "install ok installed" ]; }
has_status() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | tr -d ' ')" = "$1" ]; }

# --- build ---------------------------------------------------------------------------------
if [ ! -f "$BUILD/CPackConfig.cmake" ]; then
  fail "$BUILD/CPackConfig.cmake exists (configure with include(packaging/cpack.cmake))"
  finish
fi
if ! cmake --build "$BUILD" --target mailtls_exporter > "$TMP/build.log" 2>&1; then
  tail -30 "$TMP/build.log"
  fail "mailtls_exporter builds"
  finish
fi
VERSION=$(sed -n 's/^CPACK_PACKAGE_VERSION:STRING=//p; s/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' \
            "$BUILD/CPackConfig.cmake" | head -1)
if ! (cd "$TMP" && cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$TMP/cpack" > "$TMP/cpack.log" 2>&1); then
  cat "$TMP/cpack.log"
  fail "cpack -G DEB"
  finish
fi
DEB=$(ls "$TMP"/cpack/${PKG}_*.deb 2>/dev/null | head -1)
if [ -z "$DEB" ]; then
  fail "cpack produced $TMP/cpack/${PKG}_*.deb"
  finish
fi
pass "cpack built $(basename "$DEB")"

field() { dpkg-deb -f "$DEB" "$1"; }
depends=$(field Depends)
echo "Depends: $depends"
check "package name is $PKG" test "$(field Package)" = "$PKG"
check "package version starts with $VERSION" test "${VERSION:+x}" = x -a "$(field Version | cut -d- -f1)" = "$VERSION"
for dep in dns-root-data ca-certificates libc6 libssl3 libstdc++6; do
  check "Depends names $dep" grep -qE "(^|, )${dep//+/\\+}( |,|\$)" <<< "$depends"
done
check "control archive has conffiles and postinst/prerm/postrm" \
  bash -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -t | sort | tr '\n' ' ' | grep -q './conffiles ./control ./md5sums ./postinst ./postrm ./prerm'"
check "maintainer scripts are 0755" \
  bash -c "[ \$(dpkg-deb --ctrl-tarfile '$DEB' | tar -tv | grep -cE '^-rwxr-xr-x .* ./(postinst|prerm|postrm)$') = 3 ]"

# --- install -------------------------------------------------------------------------------
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
  echo "note: $PKG was installed before the test; it is purged first"
  dpkg --purge "$PKG" > /dev/null
fi
INSTALLED_BY_US=1
if dpkg -i "$DEB" > "$TMP/dpkg-install.log" 2>&1 < /dev/null; then
  pass "dpkg -i"
else
  cat "$TMP/dpkg-install.log"
  fail "dpkg -i"
  finish
fi
check "package is installed" is_installed
check "/usr/bin/mailtls_exporter is an executable" test -x /usr/bin/mailtls_exporter
check "binary is stripped" bash -c "! file -b /usr/bin/mailtls_exporter 2>/dev/null | grep -q 'not stripped'"
check "config installed at /etc/mailtls_exporter/config.yaml" test -f /etc/mailtls_exporter/config.yaml
check "/etc/default/mailtls_exporter defines ARGS" grep -q '^ARGS=' /etc/default/mailtls_exporter
check "unit installed at $UNIT" test -f "$UNIT"
conffiles=$(dpkg-query -W -f='${Conffiles}' "$PKG")
check "config.yaml is a conffile" grep -q '^ /etc/mailtls_exporter/config.yaml ' <<< "$conffiles"
check "/etc/default/mailtls_exporter is a conffile" grep -q '^ /etc/default/mailtls_exporter ' <<< "$conffiles"
check "postinst enabled the unit (multi-user.target.wants link)" \
  test -L /etc/systemd/system/multi-user.target.wants/mailtls_exporter.service
check "installed --version reports $VERSION" \
  bash -c "/usr/bin/mailtls_exporter --version | grep -q 'version $VERSION '"

verify_out=$(systemd-analyze verify "$UNIT" 2>&1)
verify_rc=$?
[ -n "$verify_out" ] && echo "$verify_out"
check "systemd-analyze verify $UNIT: exit 0, no findings" test "$verify_rc" = 0 -a -z "$verify_out"
for directive in 'DynamicUser=yes' 'StateDirectory=mailtls_exporter' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'NoNewPrivileges=yes' \
    'CapabilityBoundingSet=' 'AmbientCapabilities=' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' \
    'EnvironmentFile=-/etc/default/mailtls_exporter'; do
  check "unit has $directive" grep -qxF "$directive" "$UNIT"
done

# --- run the installed binary the way the unit does ----------------------------------------
unit_cmd() {  # the command line of ExecStartPre or ExecStart, $ARGS expanded word by word
  local line
  line=$(sed -n "s/^$1=//p" "$UNIT")
  # shellcheck disable=SC2086 # systemd splits $ARGS at white space, so does this
  eval "set -- $(sed 's/\$ARGS/\${ARGS}/' <<< "$line")"
  printf '%s\n' "$@"
}
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs --)

# The shipped example config must pass the ExecStartPre check as an unprivileged user.
ARGS=""
mapfile -t pre < <(unit_cmd ExecStartPre)
check "ExecStartPre (--config.check) passes on the shipped config as nobody" \
  "${AS_NOBODY[@]}" "${pre[@]}"

# The daemon itself runs on a loopback-only config (no domains, resolver on a closed loopback
# port) passed through ARGS as /etc/default/mailtls_exporter would; the storage path the unit
# gives is replaced by a scratch directory owned by nobody.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/config.yaml" <<CONFIG
resolver:
  use_resolv_conf: false
  forwarders: ["127.0.0.1@9"]
domains: []
CONFIG
chmod 644 "$TMP/config.yaml"
install -d -o nobody -g nogroup -m 0750 "$TMP/state"
ARGS="--config.file=$TMP/config.yaml --web.listen-address=127.0.0.1:$PORT"
mapfile -t start < <(unit_cmd ExecStart)
start=("${start[@]/--storage.path=\/var\/lib\/mailtls_exporter/--storage.path=$TMP/state}")
echo "running as nobody: ${start[*]}"
# setpriv execs the exporter, so $! is the exporter's own PID.
"${AS_NOBODY[@]}" "${start[@]}" > "$TMP/exporter.log" 2>&1 &
EXPORTER_PID=$!
metrics=""
for _ in $(seq 1 100); do
  metrics=$(curl -fsS --max-time 2 "http://127.0.0.1:$PORT/metrics" 2>/dev/null) && break
  kill -0 "$EXPORTER_PID" 2>/dev/null || break
  sleep 0.2
done
check "/metrics answers with mailtls_build_info" grep -q '^mailtls_build_info{' <<< "$metrics"
check "mailtls_build_info carries version=\"$VERSION\"" grep -q "^mailtls_build_info{.*version=\"$VERSION\"" <<< "$metrics"
check "/-/healthy answers 200" curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/-/healthy"
check "exporter runs as nobody" test "$(ps -o user= -p "$EXPORTER_PID" 2>/dev/null | tr -d ' ')" = nobody
kill -HUP "$EXPORTER_PID" 2>/dev/null
sleep 1
check "exporter survives SIGHUP (ExecReload) and still answers" \
  curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/metrics"
kill -TERM "$EXPORTER_PID" 2>/dev/null
exit_code=""
for _ in $(seq 1 50); do
  if ! kill -0 "$EXPORTER_PID" 2>/dev/null; then
    wait "$EXPORTER_PID"
    exit_code=$?
    break
  fi
  sleep 0.2
done
check "exporter exits 0 on SIGTERM (got ${exit_code:-still running})" test "$exit_code" = 0
[ "$exit_code" = 0 ] || cat "$TMP/exporter.log"
EXPORTER_PID=""

# --- upgrade (reinstall) keeps state and local config ---------------------------------------
# The state directory as systemd creates it for DynamicUser=yes.
[ -d /var/lib/private ] || { install -d -m 0700 /var/lib/private; CREATED_PRIVATE_DIR=1; }
install -d -m 0750 "$STATE_PRIVATE"
ln -sfn private/mailtls_exporter "$STATE_LINK"
echo '{"test":"keep me"}' > "$STATE_PRIVATE/state.json"
echo "# local edit by deb_test.sh" >> /etc/mailtls_exporter/config.yaml
if dpkg -i "$DEB" > "$TMP/dpkg-reinstall.log" 2>&1 < /dev/null; then
  pass "dpkg -i over the installed package (upgrade path)"
else
  cat "$TMP/dpkg-reinstall.log"
  fail "dpkg -i over the installed package (upgrade path)"
fi
check "upgrade keeps the state file" grep -q 'keep me' "$STATE_LINK/state.json"
check "upgrade keeps the edited conffile" grep -q 'local edit by deb_test.sh' /etc/mailtls_exporter/config.yaml

# --- remove keeps config and state, purge removes everything --------------------------------
dpkg --remove "$PKG" > "$TMP/dpkg-remove.log" 2>&1 || cat "$TMP/dpkg-remove.log"
check "dpkg --remove leaves config-files state" has_status rc
check "remove deletes the binary" test ! -e /usr/bin/mailtls_exporter
check "remove deletes the unit" test ! -e "$UNIT"
check "remove keeps the conffile" test -f /etc/mailtls_exporter/config.yaml
check "remove keeps the state file" test -f "$STATE_PRIVATE/state.json"

dpkg --purge "$PKG" > "$TMP/dpkg-purge.log" 2>&1 || cat "$TMP/dpkg-purge.log"
check "dpkg --purge forgets the package" bash -c "! dpkg-query -W -f='\${Status}' $PKG 2>/dev/null | grep -q installed"
left=()
for path in /usr/bin/mailtls_exporter /etc/mailtls_exporter /etc/default/mailtls_exporter "$UNIT" \
    "$STATE_LINK" "$STATE_PRIVATE" \
    /etc/systemd/system/mailtls_exporter.service \
    /etc/systemd/system/multi-user.target.wants/mailtls_exporter.service \
    /var/lib/systemd/deb-systemd-helper-enabled/mailtls_exporter.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/mailtls_exporter.service \
    /var/lib/systemd/deb-systemd-helper-masked/mailtls_exporter.service; do
  if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
done
check "purge leaves nothing behind${left[*]:+ (left: ${left[*]})}" test ${#left[@]} -eq 0
INSTALLED_BY_US=0

finish
