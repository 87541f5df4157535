#!/usr/bin/env bash
# docs/metrics.md against a real /metrics page: runs the exporter on the test world (every
# scenario domain) with the TLS-RPT receiver on, waits until every domain has been probed,
# POSTs accepted and refused reports, then checks the page with metrics_doc.py --complete:
# every family, label and state on the page is documented, and every documented metric is
# on the page.
#
#   metrics_world.sh <mailtls_exporter binary> [page output file] [sample output file]
#
# The sample (two series per family) is what tests/docs/metrics_sample.prom holds for the unit
# test: copy it there when metrics or labels change.
#
# Needs the world running (tests/world/world.sh start; ctest's world fixture does it).
# MAILTLS_WORLD_DIR as for world.sh. Exit 77 (skip) when the world is not running.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
exporter=${1:?usage: $0 <mailtls_exporter> [page file]}
world=${MAILTLS_WORLD_DIR:-$repo/.world}
[[ -f $world/exporter.yaml ]] || { echo "no world in $world (tests/world/world.sh start)"; exit 77; }

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# One more domain whose probe cannot finish in its 1 ms: the page then also shows what a probe
# without a verdict publishes (mailtls_probe_no_verdict{reason="timeout"}).
{
  cat "$world/exporter.yaml"
  printf '  - name: no-verdict.dane-good.test\n    timeout: 1ms\n'
  printf 'tlsrpt_receiver:\n  enabled: true\n'
} >"$work/exporter.yaml"
domains=$(grep -c '^  - name: ' "$work/exporter.yaml")

# A state file as an earlier run would have left it: sts-enforce.test served an enforce policy a
# minute ago that lists another MX host, so the page also shows what senders holding it refuse
# (mailtls_mtasts_cached_policy_mx_covered 0, and its mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds).
mkdir -p "$work/state"
now=$(date +%s)
old_body=$(printf '0%.0s' $(seq 64))
cat >"$work/state/state.json" <<EOF
{"format": 1, "sections": {"mtasts_served": {"sts-enforce.test": {"tracking_since": $((now - 120)),
 "served_now": "$old_body", "served": [{"body_sha256": "$old_body", "mode": "enforce",
 "max_age": 86400, "mx": ["mx-old.sts-enforce.test"], "first_served": $((now - 120)),
 "last_served": $((now - 60))}]}}}}
EOF

"$exporter" --config.file "$work/exporter.yaml" --web.listen-address "127.0.0.1:$port" \
  --storage.path "$work/state" --log.level warn 2>"$work/exporter.log" &
pid=$!
url=http://127.0.0.1:$port

# Every domain probed (probe_timestamp per domain) and the resolver self-test done.
for _ in $(seq 1 180); do
  page=$(curl -fsS "$url/metrics" 2>/dev/null || true)
  probed=$(grep -c '^mailtls_probe_timestamp_seconds{' <<<"$page" || true)
  if [[ $probed -ge $domains ]] && grep -q '^mailtls_resolver_dnssec_validating ' <<<"$page"; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/exporter.log"; echo "the exporter exited"; exit 1; }
  sleep 1
done
echo "probed $probed of $domains domains"

post() {  # content-type file expected-status
  local status
  status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Content-Type: $1" --data-binary "@$2" "$url/tlsrpt")
  [[ $status == "$3" ]] || { echo "POST $2 as $1: status $status, expected $3"; exit 1; }
}
data=$repo/tests/data/tlsrpt
post application/tlsrpt+gzip "$data/google-sts.json.gz" 200
post application/tlsrpt+json "$data/rfc8460-appendix-b.json" 200
post application/tlsrpt+json "$data/microsoft-tlsa.json" 200
printf 'this is not a report' >"$work/garbage.json"
post application/tlsrpt+json "$work/garbage.json" 400

out=${2:-$work/metrics.prom}
sample=${3:-$work/metrics_sample.prom}
python3 "$here/metrics_doc.py" --root "$repo" --url "$url/metrics" --write-page "$out" \
  --write-sample "$sample" --complete
