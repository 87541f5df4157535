#!/bin/sh
# Renders the Helm chart for every tests/ops/ci-values/*.yaml with tests/ops/helmrender
# (Go text/template + sprig, as Helm does) and validates the objects.
# usage: helm_render_test.sh <source dir> <build dir>. Exit 77 (skip) when go is missing.
# Needs Debian packages golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev.
set -eu
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${2:-${TMPDIR:-/tmp}/mailtls-helmrender}
if ! command -v go >/dev/null 2>&1; then
  echo "SKIP: go not installed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)"
  exit 77
fi
gocode=/usr/share/gocode
for pkg in github.com/Masterminds/sprig gopkg.in/yaml.v3; do
  [ -d "$gocode/src/$pkg" ] || { echo "FAIL: $gocode/src/$pkg missing (Debian golang-*-dev packages)"; exit 1; }
done
# Offline GOPATH build from Debian's Go sources. sprig imports semver as .../semver/v3,
# which Debian ships without the /v3 directory: add it in a private GOPATH entry.
mkdir -p "$build/gopath/src/github.com/Masterminds/semver" "$build/cache"
ln -sfn "$gocode/src/github.com/Masterminds/semver" "$build/gopath/src/github.com/Masterminds/semver/v3"
( cd "$src/tests/ops/helmrender" &&
  GO111MODULE=off GOFLAGS= GOPATH="$build/gopath:$gocode" GOCACHE="$build/cache" \
    go build -o "$build/helmrender" . )

chart=$src/helm/mailtls-exporter
# The chart reads the rules and dashboards through symlinks; they must resolve.
for f in files/mailtls.rules.yml files/dashboards/mailtls-overview.json files/dashboards/mailtls-domain.json; do
  [ -L "$chart/$f" ] && [ -f "$chart/$f" ] || { echo "FAIL: $chart/$f is not a working symlink"; exit 1; }
done
cmp -s "$chart/files/mailtls.rules.yml" "$src/alerts/mailtls.rules.yml" || { echo "FAIL: chart rules differ from alerts/"; exit 1; }

status=0
run() {
  values=$1; shift
  "$build/helmrender" -chart "$chart" -values "$src/tests/ops/ci-values/$values" \
    -rules "$src/alerts/mailtls.rules.yml" -dashboards "$src/dashboards" \
    -out "$build/out-${values%.yaml}" "$@" || status=1
}
run default-values.yaml -expect-kinds Deployment=1,Service=1,ConfigMap=1,PersistentVolumeClaim=1,ServiceAccount=1
run sharded-values.yaml -expect-kinds StatefulSet=1,Service=2,ConfigMap=1,ServiceAccount=1
run monitoring-values.yaml -expect-kinds Deployment=1,Service=1,ConfigMap=3,ServiceAccount=1,ServiceMonitor=1,PrometheusRule=1
exit $status
