#!/bin/sh
# Renders the Helm chart for the value sets of tests/ops/ci-values with tests/ops/helmrender
# (Go text/template + sprig, as Helm does), checks the objects (references, file paths in
# mounts, name limits, alert rules and dashboards), runs the promtool unit tests on a
# customised PrometheusRule, then validates the values against values.schema.json and every
# object against the Kubernetes 1.36 OpenAPI schemas and the prometheus-operator / Gateway API
# CRD schemas with unknown fields rejected (npm packages pinned in tests/ops/k8s_schema).
# A deliberately broken values file must be caught by the render and by the schema check.
# usage: helm_render_test.sh <source dir> <build dir>.
# Exit 77 (skip) when go is missing, or when the npm packages are not cached and the npm
# registry is unreachable (after every offline check has passed).
# Needs Debian packages golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
# prometheus (promtool) python3-yaml nodejs npm.
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
values=$src/tests/ops/ci-values
# The chart reads the rules and dashboards through symlinks; they must resolve.
for f in files/mailtls.rules.yml files/dashboards/mailtls-overview.json files/dashboards/mailtls-domain.json; do
  [ -L "$chart/$f" ] && [ -f "$chart/$f" ] || { echo "FAIL: $chart/$f is not a working symlink"; exit 1; }
done
cmp -s "$chart/files/mailtls.rules.yml" "$src/alerts/mailtls.rules.yml" || { echo "FAIL: chart rules differ from alerts/"; exit 1; }

status=0
fail() { echo "FAIL: $*"; status=1; }
outs=""
run() {
  set_name=$1; shift
  out=$build/out-${set_name%.yaml}
  rm -rf "$out"
  "$build/helmrender" -chart "$chart" -values "$values/$set_name" -dashboards "$src/dashboards" \
    -out "$out" "$@" || status=1
  outs="$outs $out"
}
# Helm accepts release names of up to 53 characters; this one also starts with a digit and
# has a dot, which a Service name may not.
long_release=1st.mail-transport-security-monitoring-for-example-or
[ ${#long_release} -eq 53 ] || fail "long_release has ${#long_release} characters, not 53"
run default-values.yaml -readme "$chart/README.md" \
  -expect-kinds Deployment=1,Service=1,ConfigMap=1,PersistentVolumeClaim=1,ServiceAccount=1
run sharded-values.yaml -release "$long_release" \
  -expect-kinds StatefulSet=1,Service=2,ConfigMap=1,ServiceAccount=1
run monitoring-values.yaml -rules "$src/alerts/mailtls.rules.yml" \
  -expect-kinds Deployment=1,Service=1,ConfigMap=3,ServiceAccount=1,ServiceMonitor=1,PrometheusRule=1
run tls-auth-values.yaml -rules "$src/alerts/mailtls.rules.yml" \
  -expect-kinds Deployment=1,Service=1,ConfigMap=3,PersistentVolumeClaim=1,ServiceAccount=1,Secret=1,ServiceMonitor=1,PrometheusRule=1,PodDisruptionBudget=1,NetworkPolicy=1
# unsharded, 53 characters again, this time containing the chart name (the full name is the
# release name then) and a dot
run ingress-values.yaml -release mailtls-exporter-for-the-mail-security-team-prod-eu.1 \
  -expect-kinds Deployment=1,Service=1,PersistentVolumeClaim=1,ServiceAccount=1,Ingress=1,HTTPRoute=1
run off-values.yaml -expect-kinds Deployment=1,Service=1

# The broken values must fail to render, naming the template errors.
broken=$build/out-broken-values
rm -rf "$broken"
if "$build/helmrender" -chart "$chart" -values "$values/broken-values.yaml" -out "$broken" >"$build/broken.log" 2>&1; then
  fail "broken-values.yaml rendered without a problem"
fi
for want in "ingress.hosts" "prometheusRule.alerts.MailTLSNoSuchAlert"; do
  grep -q "$want" "$build/broken.log" || fail "broken-values.yaml: the render did not report $want"
done

# Thresholds reach the expressions (and promtool accepts them); a `for` override reaches its rule.
printf 'prometheusRule:\n  enabled: true\n  thresholds: {certificateExpiryDays: 21, mtaStsPolicyCertExpiryDays: 22, rrsigExpiryWarningDays: 5, rrsigExpiryCriticalDays: 2, daneRolloverWindowDays: 45, starttlsHandshakeSeconds: 7, schedulerLagSeconds: 900}\n  alerts: {MailTLSDaneBroken: {for: 1h}}\n' \
  >"$build/thresholds-values.yaml"
rm -rf "$build/out-thresholds"
"$build/helmrender" -chart "$chart" -values "$build/thresholds-values.yaml" -out "$build/out-thresholds" \
  -rules "$src/alerts/mailtls.rules.yml" >/dev/null || fail "thresholds render"
for want in "< 21 \* 86400" "< 22 \* 86400" "< 5 \* 86400" "< 2 \* 86400" "< 45 \* 86400" "tls_handshake\"} > 7" "lag_seconds > 900"; do
  grep -q "$want" "$build/out-thresholds/prometheusrule.yml" || fail "thresholds: no '$want' in the rendered rules"
done

# The promtool unit tests of alerts/ on the customised PrometheusRule of tls-auth-values.yaml
# (extra labels, a renamed severity, a runbook base, another job selector, a disabled alert).
if command -v promtool >/dev/null 2>&1; then
  promtool check rules "$build/out-thresholds/prometheusrule.yml" >/dev/null || fail "promtool check rules: thresholds"
  custom=$build/out-tls-auth-values/prometheusrule.yml
  promtool check rules "$custom" >/dev/null || fail "promtool check rules: $custom"
  grep -q "alert: MailTLSStarttlsSlow" "$custom" && fail "MailTLSStarttlsSlow was disabled but is rendered"
  rm -rf "$build/alert-tests"
  if python3 "$src/tests/ops/gen_alert_tests.py" --rules "$custom" --out "$build/alert-tests" \
       --severity-map critical=page >/dev/null; then
    ( cd "$build/alert-tests" && promtool test rules ./*.test.yml >"$build/alert-tests.log" 2>&1 ) ||
      { cat "$build/alert-tests.log"; fail "promtool test rules on the customised PrometheusRule"; }
  else
    fail "gen_alert_tests.py on the customised PrometheusRule"
  fi
  # ... and on the series of the lean metrics profile
  rm -rf "$build/alert-tests-lean"
  if python3 "$src/tests/ops/gen_alert_tests.py" --rules "$custom" --out "$build/alert-tests-lean" \
       --severity-map critical=page --profile lean >/dev/null; then
    ( cd "$build/alert-tests-lean" && promtool test rules ./*.test.yml >"$build/alert-tests-lean.log" 2>&1 ) ||
      { cat "$build/alert-tests-lean.log"; fail "promtool test rules (lean profile) on the customised PrometheusRule"; }
  else
    fail "gen_alert_tests.py --profile lean on the customised PrometheusRule"
  fi
else
  fail "promtool not installed (Debian package prometheus)"
fi

# Schemas: npm packages pinned by package-lock.json, installed once into the build dir.
npmdir=$build/k8s_schema
for tool in node npm; do
  command -v $tool >/dev/null 2>&1 || { fail "$tool needed (Debian packages nodejs npm)"; exit 1; }
done
mkdir -p "$npmdir"
cp "$src/tests/ops/k8s_schema/package.json" "$src/tests/ops/k8s_schema/package-lock.json" \
   "$src/tests/ops/k8s_schema/validate.mjs" "$npmdir/"
if ! cmp -s "$npmdir/package-lock.json" "$npmdir/node_modules/.installed-lock.json" 2>/dev/null; then
  if ! ( cd "$npmdir" && timeout 30 npm ping >"$build/npm.log" 2>&1 ); then
    cat "$build/npm.log"
    [ $status -eq 0 ] || exit 1
    echo "SKIP: the npm registry is unreachable and the schema packages are not cached in $npmdir"
    exit 77
  fi
  ( cd "$npmdir" && npm ci --no-audit --no-fund --loglevel=error >"$build/npm.log" 2>&1 ) ||
    { cat "$build/npm.log"; fail "npm ci"; exit 1; }
  cp "$npmdir/package-lock.json" "$npmdir/node_modules/.installed-lock.json"
fi
# One run (one tsc) over every value set and the broken one: the valid sets must have no
# problem, the broken one the expected ones.
# shellcheck disable=SC2086
node "$npmdir/validate.mjs" "$chart" $outs "$broken" >"$build/schema.log" 2>&1 &&
  fail "the schema check accepted broken-values.yaml"
grep -v "PROBLEM: broken-values:" "$build/schema.log"
grep "PROBLEM:" "$build/schema.log" | grep -qv "PROBLEM: broken-values:" && fail "schema validation"
grep -q "^schema check: " "$build/schema.log" || { cat "$build/schema.log"; fail "schema check did not run"; }
for want in "values must NOT have additional properties {\"additionalProperty\":\"persistance\"}" \
            "values/sharding/replicas must be integer" "values/service/port must be <= 65535" \
            "values/exporter/logLevel must be equal to one of the allowed values" \
            "runAsNonRot\"' does not exist in type 'IPodSecurityContext'"; do
  grep -qF "$want" "$build/schema.log" || fail "broken-values.yaml: the schema check did not report: $want"
done
[ $status -eq 0 ] && echo "helm chart: all value sets render and validate; the broken one is refused"
exit $status
