#!/usr/bin/env bash
# One script for a newcomer on a fresh Debian 12 machine (as root):
#   ./setup.sh demo   install, build, start the local demo world and run the exporter on it
#   ./setup.sh test   install, build and run every test (unit, integration, world), then the
#                     C++ unit and integration tests again under ASan+UBSan
#                     (MAILTLS_SANITIZE_TESTS=0 skips that second part)
#   ./setup.sh deps | build   the first steps alone; ./setup.sh sanitize   the ASan+UBSan part alone
#   ./setup.sh demo-check     the demo's check step alone, on an existing build (the world is
#                             started unless it runs)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${MAILTLS_BUILD_DIR:-$ROOT/build}
JOBS=${MAILTLS_JOBS:-$(nproc)}

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates file
  prometheus-cpp-dev libcivetweb-dev libunbound-dev libevent-dev nettle-dev libssl-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev
  libcurl4-openssl-dev zlib1g-dev libcpp-httplib-dev libboost-dev dns-root-data
  knot knot-dnsutils ldnsutils postfix nginx-light openssl curl iproute2 unbound
  gnutls-bin swaks wrk prometheus prometheus-alertmanager prometheus-blackbox-exporter
  postfix-mta-sts-resolver
  libopendkim-dev opendkim opendkim-tools python3-dkim
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev python3-yaml nodejs npm
  podman runc debootstrap systemd ccache
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
    # a NodeSource nodejs brings its own npm and conflicts with Debian's
    [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: all packages present"
    return
  fi
  # Package scripts must not start system knot, postfix, nginx, prometheus...: they would hold
  # the ports the test world uses. The guard lives only while we install: left behind, it would
  # keep later upgrades on this host from restarting their services.
  local guard_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    guard_added=1
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } || rc=$?
  if ((guard_added)); then rm -f /usr/sbin/policy-rc.d; fi
  return $rc
}

# ccache makes a second build of the same sources (a rebuild, the ASan build's shared headers,
# another checkout on the same machine) mostly cache hits. Paths are made relative to the
# checkout and the build directory is not hashed, so two clones share one cache; the price is
# debug information that may name the directory of the clone that first compiled a file.
export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1
launcher() {
  if command -v ccache > /dev/null; then
    echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
  fi
}

configure() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo $(launcher) "$@"
}

build() {
  configure "$@"
  cmake --build "$BUILD" -j"$JOBS"
}

# The demo runs the exporter and nothing else: build only that.
build_exporter() {
  configure
  cmake --build "$BUILD" -j"$JOBS" --target mailtls_exporter
}

run_tests() {
  # ctest starts the test world itself (a fixture) for the tests labelled "world".
  ctest --test-dir "$BUILD" --output-on-failure --timeout 300 -j"$JOBS" "$@"
}

# The gtest programs that need neither the test world nor the exporter binary: every parser of
# outside input and the exporter's own code, in process, with loopback peers of their own.
SANITIZE_TESTS=(base_test dns_test dns_integration_test smtp_test smtp_integration_test tls_test dane_test
  mtasts_test mtasts_fetcher_test tlsrpt_test domain_test domain_probe_integration_test
  exporter_test mailtls_robustness_state_test)

sanitize_tests() {
  local asan=${MAILTLS_ASAN_BUILD_DIR:-$ROOT/build-asan}
  # -g1 (line tables only): reports keep file:line, the build is much lighter than with -g.
  cmake -S "$ROOT" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
    -DMAILTLS_SANITIZE=ON -DMAILTLS_BENCH=OFF $(launcher)
  cmake --build "$asan" -j"$JOBS" --target "${SANITIZE_TESTS[@]}"
  # Any ASan or UBSan report fails the program (UBSan: -fno-sanitize-recover).
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  local t bin failed=()
  for t in "${SANITIZE_TESTS[@]}"; do
    bin=$(find "$asan/tests" -type f -name "$t" -perm -u+x | head -1)
    echo "== ASan+UBSan: $t"
    if ! (cd "$asan" && "$bin" --gtest_brief=1); then failed+=("$t"); fi
  done
  if ((${#failed[@]})); then
    echo "ASan+UBSan: failed: ${failed[*]}" >&2
    return 1
  fi
  echo "ASan+UBSan: ${#SANITIZE_TESTS[@]} test programs clean"
}

# The demo's first half: `check` on every domain of the running world's config (with no domain
# named, check takes every configured one). Exit 1 is expected (some scenarios are broken on
# purpose); 2 or a crash is not. The report must name every configured domain.
demo_check() {
  local world=${MAILTLS_WORLD_DIR:-$ROOT/.world}
  local config="$world/exporter.yaml"
  local out rc=0
  echo
  echo "== mailtls_exporter check on the demo world's domains (exit code 1: some verdicts are broken, as the scenarios intend)"
  out=$("$BUILD/exporter/mailtls_exporter" --config.file "$config" check) || rc=$?
  printf '%s\n' "$out"
  if ((rc > 1)); then
    echo "setup.sh: check failed with exit code $rc" >&2
    return 1
  fi
  local expected reported
  # `--config.check` says "<file>: valid, N domains"; each domain's report starts with its name
  # on an unindented line.
  expected=$("$BUILD/exporter/mailtls_exporter" --config.file "$config" --config.check |
    sed -n 's/.*: valid, \([0-9]*\) domains$/\1/p')
  reported=$(printf '%s\n' "$out" | grep -cvE '^([[:space:]]|warning:|$)' || true)
  if ((expected == 0 || reported != expected)); then
    echo "setup.sh: check reported $reported of $expected demo domains" >&2
    return 1
  fi
  echo "== check reported all $expected demo domains"
}

demo() {
  # The local demo world: signed zones in Knot, Postfix with STARTTLS, nginx serving MTA-STS
  # policies, all on loopback; every failure scenario of tests/world/SCENARIOS.md.
  "$ROOT/tests/world/world.sh" start
  trap '"$ROOT/tests/world/world.sh" stop' EXIT
  demo_check
  local world=${MAILTLS_WORLD_DIR:-$ROOT/.world}
  mkdir -p "$ROOT/.demo-state"
  echo "== serving http://localhost:9925/metrics for these domains; Ctrl-C stops the exporter and the world"
  "$BUILD/exporter/mailtls_exporter" --config.file "$world/exporter.yaml" --storage.path "$ROOT/.demo-state"
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  test)
    deps; build; run_tests
    if [[ ${MAILTLS_SANITIZE_TESTS:-1} != 0 ]]; then sanitize_tests; fi
    ;;
  sanitize) deps; sanitize_tests ;;
  demo) deps; build_exporter; demo ;;
  demo-check)
    # On an existing build (CI runs it as a world test, after `test` built everything).
    "$ROOT/tests/world/ctest_fixture.sh" start demo-check
    trap '"$ROOT/tests/world/ctest_fixture.sh" stop demo-check' EXIT
    demo_check
    ;;
  *) echo "usage: $0 demo|test|deps|build|sanitize|demo-check" >&2; exit 2 ;;
esac
