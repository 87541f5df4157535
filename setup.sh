#!/usr/bin/env bash
# One script for a newcomer on a fresh Debian 12 machine (as root):
#   ./setup.sh demo   install, build, start the local demo world and run the exporter on it
#   ./setup.sh test   install, build and run every test (unit, integration, world)
#   ./setup.sh deps | build   the first steps alone
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${MAILTLS_BUILD_DIR:-$ROOT/build}
JOBS=${MAILTLS_JOBS:-$(nproc)}

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  prometheus-cpp-dev libcivetweb-dev libunbound-dev libevent-dev nettle-dev libssl-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev
  libcurl4-openssl-dev zlib1g-dev libcpp-httplib-dev dns-root-data
  knot knot-dnsutils ldnsutils postfix nginx-light openssl curl iproute2 unbound
  gnutls-bin swaks prometheus prometheus-alertmanager prometheus-blackbox-exporter
  postfix-mta-sts-resolver
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
  podman runc debootstrap
)

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (it installs packages and the test world binds ports 25 and 443)" >&2
    exit 1
  fi
}

deps() {
  need_root
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: all packages present"
    return
  fi
  # Package scripts must not start system knot, postfix, nginx, prometheus...: they would hold
  # the ports the test world uses.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  cmake --build "$BUILD" -j"$JOBS"
}

run_tests() {
  # ctest starts the test world itself (a fixture) for the tests labelled "world".
  ctest --test-dir "$BUILD" --output-on-failure --timeout 300 -j"$JOBS" "$@"
}

demo() {
  # The local demo world: signed zones in Knot, Postfix with STARTTLS, nginx serving MTA-STS
  # policies, all on loopback; every failure scenario of tests/world/SCENARIOS.md.
  "$ROOT/tests/world/world.sh" start
  trap '"$ROOT/tests/world/world.sh" stop' EXIT
  local world=${MAILTLS_WORLD_DIR:-$ROOT/.world}
  local config="$world/exporter.yaml"
  local domains
  domains=$(awk '/^\s+- name:/ {print $3}' "$config")
  echo
  echo "== mailtls_exporter check on the demo world's domains (exit code 1: some verdicts are broken, as the scenarios intend)"
  # shellcheck disable=SC2086
  "$BUILD/exporter/mailtls_exporter" --config.file "$config" check $domains || true
  mkdir -p "$ROOT/.demo-state"
  echo "== serving http://localhost:9925/metrics for these domains; Ctrl-C stops the exporter and the world"
  "$BUILD/exporter/mailtls_exporter" --config.file "$config" --storage.path "$ROOT/.demo-state"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  test) deps; build; run_tests ;;
  demo) deps; build; demo ;;
  *) echo "usage: $0 demo|test|deps|build" >&2; exit 2 ;;
esac
