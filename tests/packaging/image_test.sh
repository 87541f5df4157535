#!/bin/bash
# Container image test: builds the Dockerfile with podman (RUN steps with chroot isolation,
# containers run by runc) on local debian:12 / debian:12-slim base images made by
# make_base_image.sh from Debian's mirror when no registry is reachable, checks the image
# metadata (labels, user, port, volume, entrypoint, healthcheck) and runs it without network:
# default CMD, a loopback-only config mounted over the shipped one, /metrics and the
# HEALTHCHECK from inside, writable state volume, SIGHUP reload, SIGTERM exit 0.
# Needs root, podman, runc and debootstrap; exits 77 (CTest SKIP_RETURN_CODE) otherwise.
# usage: image_test.sh [source-dir]   (MAILTLS_IMAGE_KEEP=1 keeps the built image)
set -uo pipefail

SRC=$(realpath "${1:-$(dirname "$0")/../..}")
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "image_test.sh: SKIP: needs root (podman with the system storage)"
  exit 77
fi
for tool in podman runc debootstrap; do
  if ! command -v "$tool" > /dev/null; then
    echo "image_test.sh: SKIP: $tool is not installed (apt-get install podman runc debootstrap)"
    exit 77
  fi
done

VERSION=$(sed -n 's/^project(mailtls_exporter VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
IMAGE=ghcr.io/mailtls/mailtls_exporter
TAG=$IMAGE:$VERSION
NAME=mailtls-image-test-$$
VOLUME=mailtls-image-test-state-$$
TMP=$(mktemp -d /tmp/mailtls-image-test.XXXXXX)
chmod 755 "$TMP"
# crun refuses this VM's hybrid cgroup layout, runc copes; the VM also cannot raise rlimits
# (no CAP_SYS_RESOURCE), so containers get limits below the current ones.
PODMAN=(podman --runtime runc)
RUN_LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() {
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
  "${PODMAN[@]}" rm -f "$NAME" > /dev/null 2>&1
  podman volume rm -f "$VOLUME" > /dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
# podman without systemd logs harmless errors about healthcheck timers; keep them out.
quiet() { "$@" 2> >(grep -v 'systemd connection' >&2); }

# --- base images ---------------------------------------------------------------------------
start=$(date +%s)
if podman image exists docker.io/library/debian:12 && podman image exists docker.io/library/debian:12-slim; then
  echo "base images docker.io/library/debian:12 and :12-slim are present"
else
  "$HERE/make_base_image.sh" || { fail "make_base_image.sh"; finish; }
fi

# --- build ---------------------------------------------------------------------------------
REVISION=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if "${PODMAN[@]}" build --pull=never --isolation chroot --network host --format docker \
     --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" \
     -t "$TAG" -f "$SRC/Dockerfile" "$SRC" > "$TMP/build.log" 2>&1; then
  pass "podman build -t $TAG ($(( $(date +%s) - start )) s, base images included)"
else
  tail -40 "$TMP/build.log"
  fail "podman build -t $TAG"
  finish
fi
echo "runtime packages: $(sed -n '/^mailtls_exporter, version/,/^-->/p' "$TMP/build.log" | sed '1d;$d' | tr '\n' ' ')"

# --- metadata ------------------------------------------------------------------------------
inspect() { podman image inspect "$TAG" --format "$1"; }
check "label org.opencontainers.image.version=$VERSION" \
  test "$(inspect '{{index .Labels "org.opencontainers.image.version"}}')" = "$VERSION"
check "label org.opencontainers.image.source is the GitHub repository" \
  test "$(inspect '{{index .Labels "org.opencontainers.image.source"}}')" = "https://github.com/mailtls/mailtls_exporter"
check "label org.opencontainers.image.revision=$REVISION" \
  test "$(inspect '{{index .Labels "org.opencontainers.image.revision"}}')" = "$REVISION"
check "user is 65532:65532" test "$(inspect '{{.Config.User}}')" = "65532:65532"
check "exposes 9925/tcp" grep -q '9925/tcp' <<< "$(inspect '{{json .Config.ExposedPorts}}')"
check "volume /var/lib/mailtls_exporter" grep -q '/var/lib/mailtls_exporter' <<< "$(inspect '{{json .Config.Volumes}}')"
check "entrypoint is mailtls_exporter" test "$(inspect '{{json .Config.Entrypoint}}')" = '["mailtls_exporter"]'
check "default CMD names the config file and the storage path" test "$(inspect '{{json .Config.Cmd}}')" = \
  '["--config.file=/etc/mailtls_exporter/config.yaml","--storage.path=/var/lib/mailtls_exporter"]'
check "has a HEALTHCHECK on /-/healthy" grep -q '/-/healthy' <<< "$(inspect '{{json .HealthCheck}}')"

run_once() { quiet "${PODMAN[@]}" run --rm "${RUN_LIMITS[@]}" --network none "$@"; }
version_ok() {
  local out
  out=$(run_once "$TAG" --version) && grep -q "version $VERSION " <<< "$out"
}
libraries_resolve() {
  local out
  out=$(run_once --entrypoint ldd "$TAG" /usr/bin/mailtls_exporter) && ! grep -q 'not found' <<< "$out"
}
no_build_packages() {
  local out
  out=$(run_once --entrypoint dpkg-query "$TAG" -W -f='${Package}\n') &&
    ! grep -qE '(-dev|^g\+\+(-[0-9]+)?|^gcc(-[0-9]+)?|^cmake)$' <<< "$out"
}
check "--version reports $VERSION" version_ok
check "every shared library resolves (ldd)" libraries_resolve
check "root trust anchor and CA bundle are readable as uid 65532" \
  run_once --entrypoint sh "$TAG" -c 'test -r /usr/share/dns/root.key && test -r /etc/ssl/certs/ca-certificates.crt'
check "the shipped example config passes --config.check" run_once "$TAG" \
  --config.file=/etc/mailtls_exporter/config.yaml --config.check
check "no compiler or -dev package in the runtime image" no_build_packages

# --- run -----------------------------------------------------------------------------------
# No network at all (only the container's own loopback): the default CMD listens on :9925
# there, and the checks run inside with the image's curl, as the HEALTHCHECK does.
cat > "$TMP/config.yaml" <<CONFIG
resolver:
  use_resolv_conf: false
  forwarders: ["127.0.0.1@9"]
domains: []
CONFIG
chmod 644 "$TMP/config.yaml"
# Read-only root, no capabilities, no privilege gain: what the Helm chart's securityContext
# (readOnlyRootFilesystem, drop ALL, allowPrivilegeEscalation false) gives the pod.
if quiet "${PODMAN[@]}" run -d "${RUN_LIMITS[@]}" --name "$NAME" --network none \
     --read-only --read-only-tmpfs=false --cap-drop=ALL --security-opt=no-new-privileges \
     -v "$VOLUME:/var/lib/mailtls_exporter" \
     -v "$TMP/config.yaml:/etc/mailtls_exporter/config.yaml:ro" "$TAG" > /dev/null; then
  pass "container starts with the default CMD (read-only root, no capabilities)"
else
  fail "container starts with the default CMD (read-only root, no capabilities)"
  finish
fi
in_container() { quiet podman exec "$NAME" "$@"; }
metrics=""
for _ in $(seq 1 50); do
  metrics=$(in_container curl -fsS --max-time 2 http://127.0.0.1:9925/metrics 2>/dev/null) && break
  sleep 0.2
done
check "/metrics answers with mailtls_build_info" grep -q "^mailtls_build_info{.*version=\"$VERSION\"" <<< "$metrics"
check "HEALTHCHECK passes" quiet podman healthcheck run "$NAME"
check "runs as uid 65532" test "$(in_container id -u)" = 65532
check "state volume is writable by uid 65532" in_container touch /var/lib/mailtls_exporter/.write-test
quiet podman kill --signal HUP "$NAME" > /dev/null
sleep 1
check "SIGHUP reloads and it keeps serving" \
  in_container curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:9925/-/ready
# A reload sets up the resolver again (its DNSSEC self-test waits up to 5 s with no network).
for _ in $(seq 1 40); do
  grep -q 'config reloaded' <<< "$(podman logs "$NAME" 2>&1)" && break
  sleep 0.5
done
check "log shows the reload" grep -q 'config reloaded' <<< "$(podman logs "$NAME" 2>&1)"
quiet "${PODMAN[@]}" stop -t 10 "$NAME" > /dev/null
check "SIGTERM (podman stop) exits 0" test "$(podman inspect "$NAME" --format '{{.State.ExitCode}}')" = 0

quiet podman rm -f "$NAME" > /dev/null 2>&1
podman volume rm -f "$VOLUME" > /dev/null 2>&1
if [ "${MAILTLS_IMAGE_KEEP:-0}" != 1 ]; then
  # Untagging also drops the final stage's intermediate layers (its parents).
  podman rmi "$TAG" > /dev/null 2>&1
  # Untagged layers of both stages (labelled first thing in the Dockerfile); the base images
  # stay as a cache.
  for title in mailtls_exporter mailtls_exporter-build; do
    podman image prune -f --filter "label=org.opencontainers.image.title=$title" > /dev/null 2>&1
  done
fi
echo "image_test.sh took $(( $(date +%s) - start )) s"
finish
