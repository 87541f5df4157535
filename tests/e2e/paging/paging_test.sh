#!/usr/bin/env bash
# The paging path end to end, with real servers on loopback: the world's Postfix serves a
# renewed key that its TLSA record does not match (F1, `world.sh mutate rotate-key`), our
# exporter sees it, a real Prometheus evaluates the shipped alert rules (every `for:` set to
# 0s), a real Alertmanager routes severity="critical" to a webhook, and the webhook receives
# MailTLSDaneBroken (and MailTLSTlsaNotUpdatedAfterRenewal) firing for dane-good.test; after
# `world.sh restore rotate-key` it receives them resolved. Then the exporter's resolver stops
# validating (wrong trust anchors, reload): exactly one page, MailTLSResolverNotValidating, and
# none per domain; with the right anchors back, the verdicts return without a page. Also runs
# every PromQL expression of the shipped dashboards against that Prometheus and requires data
# from each.
#
# usage: paging_test.sh <mailtls_exporter binary> [--profile lean] [--dashboards-only]
#        (as root; about 70-130 s, at most ~6.5 min; --dashboards-only stops after the dashboards)
# --profile lean runs the exporter with metrics.profile: lean, two more domains with something
# wrong (DANE_DETAIL_DOMAIN, STS_DETAIL_DOMAIN), and checks the dashboards with those and, for
# the healthy domains, that only the lean series are there (dashboard_queries.py --profile lean).
# Uses a running world and leaves it running; starts one (and stops it) if none runs.
# Prints "N passed, N failed"; exits non-zero on any failure. See docs/paging-test.md.
set -uo pipefail

exporter=${1:?usage: $0 <mailtls_exporter binary> [--profile lean] [--dashboards-only]}
exporter=$(readlink -f "$exporter")
shift
PROFILE=full DASHBOARDS_ONLY=0
while (($#)); do
  case $1 in
    --profile) PROFILE=${2:?--profile full|lean}; shift 2 ;;
    --dashboards-only) DASHBOARDS_ONLY=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
world="$repo/tests/world/world.sh"
RUN_DIR=${MAILTLS_WORLD_DIR:-$repo/.world}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
DOMAIN=dane-good.test       # the F1 target: rotate-key changes the key of its MX
STS_DOMAIN=sts-enforce.test # a healthy MTA-STS domain, for the MTA-STS dashboard panels
WARN_DOMAIN=tlsrpt-bad.test # healthy for mail, but its TLS-RPT record has no rua=: the warning
                            # MailTLSTlsRptRecordInvalid, which must reach Alertmanager, not the pager
MX=mx.dane-good.test
DANE_DETAIL_DOMAIN=dane-v6.test    # lean profile only: DANE degraded (::1 does not match) and
STS_DETAIL_DOMAIN=sts-mxmiss.test  # MTA-STS degraded (mx2 not covered): every series is kept

T_START=$(date +%s.%N)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
log() { printf '[%6.1fs] %s\n' "$(elapsed "$T_START")" "$*"; }
elapsed() { python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# ------------------------------------------------------------------------------ cleanup
work=""
pids=()           # every process this script started, stopped by PID in the trap
mutated=0         # 1 from just before `mutate rotate-key` until `restore` succeeded
started_world=0
main_pid=$BASHPID
cleanup() {
  local rc=$?
  # Only the test's own shell cleans up: a signal caught by a command-substitution subshell
  # in the instant after fork must not restore or kill while the test goes on.
  [[ $BASHPID == "$main_pid" ]] || exit "$rc"
  trap - EXIT INT TERM
  if ((mutated)); then
    echo "cleanup: restoring rotate-key"
    "$world" restore rotate-key || echo "cleanup: restore rotate-key FAILED: the world keeps serving the rotated key" >&2
  fi
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if ((started_world)); then "$world" stop; fi
  if [[ -n $work && -d $work ]]; then
    if ((rc == 0)); then
      rm -rf "$work"
    else
      echo "logs kept in $work (exporter.log prometheus.log alertmanager.log webhook.log pages.jsonl)"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every wait ends by this time (seconds after start), whatever its own limit says, so that the
# whole test (waits, mutate/restore of at most 30 s each, dashboards at most 60 s, two reloads
# of at most 10 s each, 22 s of sleeps, cleanup) stays under CTest's 420 s.
WAIT_BUDGET=200
T_DEADLINE=$(($(date +%s) + WAIT_BUDGET))

# wait_for <seconds> <what> <command...>: polls every 0.5 s; 0 when the command succeeded.
wait_for() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + limit))
  ((deadline > T_DEADLINE)) && deadline=$T_DEADLINE
  while (($(date +%s) < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "timed out after ${limit}s waiting for $what" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# promq <expr>: number of series (with a finite value) the instant query returns.
promq() {
  curl -sf --max-time 5 -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, math, sys
d = json.load(sys.stdin)["data"]["result"]
print(sum(1 for s in d if not math.isnan(float(s["value"][1]))))'
}
prom_has() { [[ $(promq "$1") -gt 0 ]]; }

page_seen() { "$here/pages.py" seen "$work/pages.jsonl" "$@"; }

die_setup() {
  bad "setup: $*"
  echo "$passed passed, $failed failed"
  exit 1
}

# ------------------------------------------------------------------------------ preconditions
[[ $(id -u) == 0 ]] || die_setup "run as root (the world's mutations need it)"
[[ -x $exporter ]] || die_setup "no exporter binary at $exporter"
[[ -x $PROMETHEUS ]] || die_setup "no Prometheus at $PROMETHEUS (Debian package prometheus)"
[[ -x $ALERTMANAGER ]] || die_setup "no Alertmanager at $ALERTMANAGER (Debian package prometheus-alertmanager)"

if "$world" status 2>/dev/null | grep -q '^state: all'; then
  log "using the running world in $RUN_DIR (left running)"
else
  log "no world running: starting one"
  started_world=1
  "$world" start || die_setup "world.sh start failed"
fi
[[ -s $RUN_DIR/exporter.yaml ]] || die_setup "no $RUN_DIR/exporter.yaml"

work=$(mktemp -d /tmp/paging-test.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/exporter-state" "$work/prometheus-data" "$work/alertmanager-data"
exp_port=$(free_port) prom_port=$(free_port) am_port=$(free_port) hook_port=$(free_port)

# ------------------------------------------------------------------------------ configs
# Exporter: the world's config (resolver, anchors, CA, SMTP settings) without its defaults and
# domain list; probes every 5 s; TLS-RPT receiver on; three domains (see the top).
awk '
  /^[^[:space:]#]/ { skip = ($0 ~ /^(defaults|domains|domain_files|tlsrpt_receiver):/) }
  !skip
' "$RUN_DIR/exporter.yaml" >"$work/exporter.yaml"
cat >>"$work/exporter.yaml" <<EOF
defaults: {interval: 5s, timeout: 4s}
tlsrpt_receiver: {enabled: true}
domains:
  - name: $DOMAIN
  - name: $STS_DOMAIN
  - name: $WARN_DOMAIN
EOF
if [[ $PROFILE == lean ]]; then
  printf '  - name: %s\n  - name: %s\nmetrics: {profile: lean}\n' "$DANE_DETAIL_DOMAIN" "$STS_DETAIL_DOMAIN" \
    >>"$work/exporter.yaml"
fi

"$repo/tests/ops/rules_for_e2e.sh" 0s >"$work/rules.yml" || die_setup "rules_for_e2e.sh failed"
grep -q 'for: 0s' "$work/rules.yml" && ! grep -Eq 'for: +[1-9]' "$work/rules.yml" ||
  die_setup "rules_for_e2e.sh did not set every for: to 0s"

cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 2s
rule_files: ["$work/rules.yml"]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$am_port"]}]
scrape_configs:
  - job_name: mailtls_exporter
    static_configs: [{targets: ["127.0.0.1:$exp_port"]}]
EOF

# Critical alerts page (the webhook); warnings go nowhere. One group per alert and domain.
cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: "null"
  group_by: [alertname, domain, mx]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: "null"
  - name: pager
    webhook_configs:
      - url: "http://127.0.0.1:$hook_port/page"
        send_resolved: true
EOF

promtool check config "$work/prometheus.yml" >"$work/promtool.log" 2>&1 ||
  die_setup "promtool check config: $(tail -n3 "$work/promtool.log")"
amtool check-config "$work/alertmanager.yml" >"$work/amtool.log" 2>&1 ||
  die_setup "amtool check-config: $(tail -n3 "$work/amtool.log")"

# ------------------------------------------------------------------------------ servers
"$here/webhook_receiver.py" 127.0.0.1 "$hook_port" "$work/pages.jsonl" 600 >"$work/webhook.log" 2>&1 &
pids+=($!)
"$exporter" --config.file "$work/exporter.yaml" --web.listen-address "127.0.0.1:$exp_port" \
  --storage.path "$work/exporter-state" >"$work/exporter.log" 2>&1 &
pids+=($!)
"$ALERTMANAGER" --config.file "$work/alertmanager.yml" --storage.path "$work/alertmanager-data" \
  --web.listen-address "127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
pids+=($!)
"$PROMETHEUS" --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus-data" \
  --web.listen-address "127.0.0.1:$prom_port" --rules.alert.resend-delay 2s \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)

wait_for 10 "the webhook receiver" curl -sf --max-time 2 "http://127.0.0.1:$hook_port/" ||
  die_setup "webhook receiver did not start: $(tail -n3 "$work/webhook.log")"
wait_for 20 "the exporter" curl -sf --max-time 2 "http://127.0.0.1:$exp_port/-/ready" ||
  die_setup "exporter not ready: $(tail -n3 "$work/exporter.log")"
wait_for 30 "Alertmanager" curl -sf --max-time 2 "http://127.0.0.1:$am_port/-/ready" ||
  die_setup "Alertmanager not ready: $(tail -n3 "$work/alertmanager.log")"
wait_for 30 "Prometheus" curl -sf --max-time 2 "http://127.0.0.1:$prom_port/-/ready" ||
  die_setup "Prometheus not ready: $(tail -n3 "$work/prometheus.log")"
log "exporter :$exp_port, Prometheus :$prom_port, Alertmanager :$am_port, webhook :$hook_port (in $work)"

# ------------------------------------------------------------------------------ TLS-RPT reports
# What a DANE sender would report for dane-good.test (gzip, RFC 8460 §5.4), the shipped
# Google fixture, and one malformed report (for the rejected-reports panel). The second
# dane-good report is posted after Prometheus has scraped the first, so the counters grow
# while Prometheus watches and increase() is above 0 (it cannot see a series' first value).
make_report() {  # report-id, output file
  python3 - "$1" "$2" "$DOMAIN" "$MX" <<'PY'
import gzip, json, sys
rid, out, domain, mx = sys.argv[1:5]
report = {
    "organization-name": "Paging Test Sender",
    "date-range": {"start-datetime": "2026-01-01T00:00:00Z", "end-datetime": "2026-01-01T23:59:59Z"},
    "contact-info": "tlsrpt@sender.test",
    "report-id": rid,
    "policies": [{
        "policy": {"policy-type": "tlsa", "policy-domain": domain, "mx-host": [mx]},
        "summary": {"total-successful-session-count": 10, "total-failure-session-count": 3},
        "failure-details": [{"result-type": "tlsa-invalid", "receiving-mx-hostname": mx,
                             "receiving-ip": "127.0.1.1", "failed-session-count": 3}],
    }],
}
with open(out, "wb") as f:
    f.write(gzip.compress(json.dumps(report).encode()))
PY
}
post_report() {  # file content-type -> HTTP status
  curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Content-Type: $2" \
    --data-binary "@$1" "http://127.0.0.1:$exp_port/tlsrpt"
}
make_report "paging-$$-1" "$work/report1.json.gz"
make_report "paging-$$-2" "$work/report2.json.gz"
printf '{"organization-name": "broken' >"$work/report-bad.json"
[[ $(post_report "$work/report1.json.gz" application/tlsrpt+gzip) == 200 ]] &&
  [[ $(post_report "$repo/tests/data/tlsrpt/google-sts.json.gz" application/tlsrpt+gzip) == 200 ]] &&
  [[ $(post_report "$work/report-bad.json" application/tlsrpt+json) == 400 ]] &&
  ok "TLS-RPT: two gzip reports accepted (200), a malformed one refused (400)" ||
  bad "TLS-RPT: posting the reports did not give 200, 200, 400"

# ------------------------------------------------------------------------------ healthy state
if wait_for 30 "Prometheus to have dane-good.test valid and $STS_DOMAIN enforced" prom_has \
  "mailtls_dane_status{domain=\"$DOMAIN\",status=\"valid\"} == 1 and on () mailtls_mtasts_status{domain=\"$STS_DOMAIN\",status=\"enforced\"} == 1"; then
  ok "Prometheus scrapes the exporter: $DOMAIN DANE valid, $STS_DOMAIN MTA-STS enforced"
else
  bad "Prometheus never saw $DOMAIN valid and $STS_DOMAIN enforced ($(promq 'mailtls_dane_status == 1') DANE status series)"
fi
log "healthy state visible in Prometheus"
wait_for 15 "Prometheus to scrape the first TLS-RPT counters" prom_has \
  "mailtls_tlsrpt_report_failures_total{policy_domain=\"$DOMAIN\"}" ||
  bad "mailtls_tlsrpt_report_failures_total{policy_domain=\"$DOMAIN\"} never scraped"
[[ $(post_report "$work/report2.json.gz" application/tlsrpt+gzip) == 200 ]] &&
  ok "TLS-RPT: a second report for $DOMAIN accepted" || bad "TLS-RPT: second report refused"

# Let the rules run a few times on healthy data: rule evaluations every 2 s, Alertmanager's
# group_wait 1 s; 8 s covers 4 evaluations. Then nothing critical may have paged.
t_healthy=$(date +%s.%N)
sleep 8
evals=$(curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/rules" | python3 -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
t = float(sys.argv[1])
from datetime import datetime
def ts(s):  # RFC 3339 with nanoseconds -> Unix time
    s = s.rstrip("Z"); base, _, frac = s.partition(".")
    return datetime.fromisoformat(base + "+00:00").timestamp() + float("0." + (frac or "0"))
print(sum(1 for g in groups if ts(g["lastEvaluation"]) > t), len(groups))' "$t_healthy")
read -r evaluated total <<<"${evals:-0 0}"
if [[ $total -gt 0 && $evaluated == "$total" ]]; then
  ok "all $total rule groups evaluated on the healthy data"
else
  bad "rule groups evaluated after the healthy state: $evaluated of $total"
fi
if page_seen firing alertname=MailTLSDaneBroken domain=$DOMAIN >/dev/null; then
  bad "MailTLSDaneBroken for $DOMAIN paged while the world was healthy"
else
  ok "no MailTLSDaneBroken page for $DOMAIN while healthy"
fi
# The routing is what keeps it quiet, not the absence of alerts: the warning
# MailTLSTlsRptRecordInvalid for $WARN_DOMAIN is active in Alertmanager and must not page.
am_warning() {
  curl -sf --max-time 5 -G "http://127.0.0.1:$am_port/api/v2/alerts" \
    --data-urlencode 'filter=alertname="MailTLSTlsRptRecordInvalid"' --data-urlencode "filter=domain=\"$WARN_DOMAIN\"" |
    python3 -c 'import json, sys; sys.exit(0 if any(a["status"]["state"] == "active" and a["labels"].get("severity") == "warning" for a in json.load(sys.stdin)) else 1)'
}
if wait_for 15 "Alertmanager to hold MailTLSTlsRptRecordInvalid for $WARN_DOMAIN" am_warning; then
  ok "Alertmanager holds the warning MailTLSTlsRptRecordInvalid for $WARN_DOMAIN (routed to no receiver)"
else
  bad "Alertmanager has no active warning MailTLSTlsRptRecordInvalid for $WARN_DOMAIN"
fi
early=$("$here/pages.py" list "$work/pages.jsonl")
if [[ -z $early ]]; then
  ok "no page at all while healthy"
else
  bad "pages while healthy: $(tr '\n' ';' <<<"$early")"
fi

# ------------------------------------------------------------------------------ dashboards
dashboard_domains=(--domain "$DOMAIN" --sts-domain "$STS_DOMAIN")
if [[ $PROFILE == lean ]]; then
  dashboard_domains=(--profile lean --domain "$DANE_DETAIL_DOMAIN" --sts-domain "$STS_DETAIL_DOMAIN"
                     --healthy-domain "$DOMAIN" --healthy-sts-domain "$STS_DOMAIN")
fi
if timeout 60 "$here/dashboard_queries.py" "http://127.0.0.1:$prom_port" "${dashboard_domains[@]}" \
  --extra-domain "$WARN_DOMAIN" >"$work/dashboards.log" 2>&1; then
  ok "dashboards: $(tail -n1 "$work/dashboards.log") (every expression returns data, except:)"
  grep 'no data, as expected' "$work/dashboards.log" | sed 's/^ok  */     /'
else
  bad "dashboards: $(tail -n1 "$work/dashboards.log")"
  grep -E '^(FAIL|Traceback)' "$work/dashboards.log" | sed 's/^/     /'
fi
log "dashboard queries done"
if ((DASHBOARDS_ONLY)); then
  echo "$passed passed, $failed failed (--dashboards-only: stopped before rotate-key)"
  exit $((failed > 0))
fi

# ------------------------------------------------------------------------------ F1: rotate-key
mutated=1
t_mutate=$(date +%s.%N)
log "world.sh mutate rotate-key"
"$world" mutate rotate-key >"$work/mutate.log" 2>&1 || bad "world.sh mutate rotate-key: $(tail -n2 "$work/mutate.log")"
t_mutated=$(date +%s.%N)

broken_labels=(alertname=MailTLSDaneBroken domain=$DOMAIN severity=critical)
f1_labels=(alertname=MailTLSTlsaNotUpdatedAfterRenewal domain=$DOMAIN mx=$MX severity=critical)
t_broken_fired="" t_f1_fired=""
# Expected within ~10 s: the next probe (interval 5 s), a scrape (2 s), an evaluation (2 s),
# Alertmanager's group_wait (1 s). Both alerts share one 60 s budget.
budget_left() { python3 -c "import sys, time; print(max(3, int(float(sys.argv[1]) + 60 - time.time())))" "$1"; }
if wait_for 60 "MailTLSDaneBroken firing at the webhook" page_seen firing --after "$t_mutate" "${broken_labels[@]}"; then
  t_broken_fired=$(page_seen firing --after "$t_mutate" "${broken_labels[@]}")
  ok "webhook: MailTLSDaneBroken firing for $DOMAIN, severity critical, $(since "$t_mutate" "$t_broken_fired")s after mutate"
else
  bad "webhook: no MailTLSDaneBroken firing for $DOMAIN within 60 s (Prometheus alerts: $(curl -s --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" | head -c 600))"
fi
# The rotated certificate's notBefore is the mutate time (world.sh issues it then), later than
# the TLSA RRset's first sighting by this exporter (its state dir is new): F1 proper fires.
if wait_for "$(budget_left "$t_mutate")" "MailTLSTlsaNotUpdatedAfterRenewal firing at the webhook" page_seen firing --after "$t_mutate" "${f1_labels[@]}"; then
  t_f1_fired=$(page_seen firing --after "$t_mutate" "${f1_labels[@]}")
  ok "webhook: MailTLSTlsaNotUpdatedAfterRenewal firing for $MX ($DOMAIN), $(since "$t_mutate" "$t_f1_fired")s after mutate"
else
  bad "webhook: no MailTLSTlsaNotUpdatedAfterRenewal for $MX (not_before vs first_seen: $(promq "mailtls_cert_not_before_timestamp_seconds{domain=\"$DOMAIN\"} > on (domain, mx) group_left () mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds") series)"
fi
# Only dane-good.test broke: no other domain (nor the exporter itself) may page.
others=$("$here/pages.py" list "$work/pages.jsonl" | grep -v "domain=\"$DOMAIN\"")
if [[ -z $others ]]; then
  ok "no page for $STS_DOMAIN, $WARN_DOMAIN or the exporter"
else
  bad "pages that are not about $DOMAIN: $(tr '\n' ';' <<<"$others")"
fi

# ------------------------------------------------------------------------------ restore
t_restore=$(date +%s.%N)
log "world.sh restore rotate-key"
if "$world" restore rotate-key >"$work/restore.log" 2>&1; then
  mutated=0
else
  bad "world.sh restore rotate-key: $(tail -n2 "$work/restore.log") (the trap tries again)"
fi
t_broken_resolved="" t_f1_resolved=""
if [[ -z $t_broken_fired ]]; then
  bad "webhook: MailTLSDaneBroken resolved not checked: it never fired"
elif wait_for 60 "MailTLSDaneBroken resolved at the webhook" page_seen resolved --after "$t_restore" "${broken_labels[@]}"; then
  t_broken_resolved=$(page_seen resolved --after "$t_restore" "${broken_labels[@]}")
  ok "webhook: MailTLSDaneBroken resolved for $DOMAIN, $(since "$t_restore" "$t_broken_resolved")s after restore"
else
  bad "webhook: no resolved MailTLSDaneBroken for $DOMAIN within 60 s of restore"
fi
if [[ -n $t_f1_fired ]]; then
  if wait_for "$(budget_left "$t_restore")" "MailTLSTlsaNotUpdatedAfterRenewal resolved" page_seen resolved --after "$t_restore" "${f1_labels[@]}"; then
    t_f1_resolved=$(page_seen resolved --after "$t_restore" "${f1_labels[@]}")
    ok "webhook: MailTLSTlsaNotUpdatedAfterRenewal resolved, $(since "$t_restore" "$t_f1_resolved")s after restore"
  else
    bad "webhook: no resolved MailTLSTlsaNotUpdatedAfterRenewal within 60 s of restore"
  fi
fi
if wait_for 20 "Prometheus to see $DOMAIN valid again" prom_has "mailtls_dane_status{domain=\"$DOMAIN\",status=\"valid\"} == 1"; then
  ok "Prometheus: $DOMAIN DANE valid again"
else
  bad "Prometheus: $DOMAIN not valid after restore"
fi

# ------------------------------------------------------------------------------ resolver not validating
# The exporter's own resolver stops validating: its trust anchors for the world's zones are
# replaced with wrong ones (right key tags, wrong digests) and the config reloaded. Every
# answer then comes back bogus. Before, every domain read DANE bogus / MTA-STS broken and the
# domain alerts paged; now the probes give no verdict, the last verdicts stay, and exactly one
# page arrives: MailTLSResolverNotValidating. Then the right anchors come back, and the domain
# verdicts with them, without a page.
reload_exporter() { [[ $(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$exp_port/-/reload") == 200 ]]; }
# firing alerts in Prometheus, as "alertname domain" lines (domain "-" when it has none)
prom_firing() {
  curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["state"] == "firing":
        print(a["labels"]["alertname"], a["labels"].get("domain", "-"))' | sort -u
}
ALL_DOMAINS="$DOMAIN|$STS_DOMAIN|$WARN_DOMAIN"
resolver_labels=(alertname=MailTLSResolverNotValidating severity=critical)
cp "$work/exporter.yaml" "$work/exporter-good.yaml"
anchors=$(sed -n 's/^ *trust_anchor_files: \["\(.*\)"\]$/\1/p' "$work/exporter.yaml")
# Each DS keeps its owner, key tag, algorithm and digest type; the digest is of something else.
if [[ -s $anchors ]] && python3 - "$anchors" >"$work/wrong-anchors.ds" <<'PY' &&
import hashlib, sys
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 6 and f[1] == "DS":
        print(*f[:5], hashlib.sha256(b"wrong DS for " + f[0].encode()).hexdigest())
PY
  [[ $(wc -l <"$work/wrong-anchors.ds") == $(wc -l <"$anchors") ]] &&
  sed "s|trust_anchor_files: \[\".*\"\]|trust_anchor_files: [\"$work/wrong-anchors.ds\"]|" \
    "$work/exporter-good.yaml" >"$work/exporter-wrong-anchor.yaml" &&
  grep -q wrong-anchors.ds "$work/exporter-wrong-anchor.yaml"; then
  :
else
  bad "resolver: could not write a config with wrong trust anchors (anchors file: ${anchors:-none})"
fi
firing_before=$(prom_firing)
t_anchor=$(date +%s.%N)
log "exporter config: wrong trust anchors, reload"
cp "$work/exporter-wrong-anchor.yaml" "$work/exporter.yaml"
reload_exporter || bad "resolver: reload with wrong trust anchors refused"
t_resolver_fired=""
if wait_for 40 "MailTLSResolverNotValidating firing at the webhook" page_seen firing --after "$t_anchor" "${resolver_labels[@]}"; then
  t_resolver_fired=$(page_seen firing --after "$t_anchor" "${resolver_labels[@]}")
  ok "webhook: MailTLSResolverNotValidating firing, $(since "$t_anchor" "$t_resolver_fired")s after the reload"
else
  bad "webhook: no MailTLSResolverNotValidating within 40 s of the reload ($(promq 'mailtls_resolver_dnssec_validating == 0') series at 0)"
fi
# The self-test fails the way a wrong anchor makes it fail: the known-signed name is bogus.
if grep -q 'self-test failed: known-signed name did not validate secure: .* bogus' "$work/exporter.log"; then
  ok "exporter log: the resolver's self-test fails with bogus (the wrong trust anchors are in use)"
else
  bad "exporter log: no self-test failure with bogus after the reload: $(grep -m2 'self-test' "$work/exporter.log")"
fi
# Every domain must have been probed through the broken resolver; then two more probe
# intervals (5 s each), scrapes and evaluations (2 s) and group_wait (1 s) pass: every domain
# alert (for: 0s here) had the time to fire.
if wait_for 30 "every domain without a verdict (resolver_not_validating)" prom_has \
  "count(mailtls_probe_no_verdict{domain=~\"$ALL_DOMAINS\",reason=\"resolver_not_validating\"} == 1) == 3"; then
  ok "Prometheus: all 3 domains probed without a verdict, reason resolver_not_validating"
else
  bad "Prometheus: not every domain has mailtls_probe_no_verdict{reason=\"resolver_not_validating\"} ($(promq 'mailtls_probe_no_verdict') series)"
fi
sleep 14
resolver_pages=$("$here/pages.py" list "$work/pages.jsonl" | awk -v t="$t_anchor" '$1 >= t && $2 == "firing"')
if [[ $(grep -c . <<<"$resolver_pages") == 1 ]] && grep -q 'alertname="MailTLSResolverNotValidating"' <<<"$resolver_pages"; then
  ok "exactly one page while the resolver does not validate: MailTLSResolverNotValidating"
else
  bad "pages while the resolver does not validate (want only MailTLSResolverNotValidating): $(tr '\n' ';' <<<"$resolver_pages")"
fi
# Not the routing's or an inhibition's doing (this Alertmanager has none): Prometheus itself
# fires no new alert but the resolver's. What fired before (the TLS-RPT warning) may go on.
new_firing=$(comm -13 <(echo "$firing_before") <(prom_firing) | grep -v '^MailTLSResolverNotValidating -$')
if [[ -z $new_firing ]]; then
  ok "Prometheus: no domain alert started firing (MailTLSProbeFailing, DANE, DNSSEC, MTA-STS, TLS-RPT)"
else
  bad "Prometheus: alerts that started firing with the resolver broken: $(tr '\n' ';' <<<"$new_firing")"
fi
if prom_has "mailtls_dane_status{domain=\"$DOMAIN\",status=\"valid\"} == 1 and on () mailtls_mtasts_status{domain=\"$STS_DOMAIN\",status=\"enforced\"} == 1 and on () mailtls_probe_success{domain=\"$DOMAIN\"} == 0"; then
  ok "Prometheus: the last verdicts stay ($DOMAIN DANE valid, $STS_DOMAIN enforced) with probe_success 0"
else
  bad "Prometheus: the last verdicts did not stay while the resolver does not validate"
fi

t_anchor_restore=$(date +%s.%N)
log "exporter config: right trust anchors, reload"
cp "$work/exporter-good.yaml" "$work/exporter.yaml"
reload_exporter || bad "resolver: reload with the right trust anchors refused"
if wait_for 30 "fresh verdicts for every domain" prom_has \
  "count(mailtls_probe_success{domain=~\"$ALL_DOMAINS\"} == 1) == 3 and on () absent(mailtls_probe_no_verdict) and on () mailtls_resolver_dnssec_validating == 1 and on () mailtls_dane_status{domain=\"$DOMAIN\",status=\"valid\"} == 1"; then
  ok "Prometheus: verdicts back for all 3 domains, resolver validating, $DOMAIN DANE valid"
else
  bad "Prometheus: verdicts not back after restoring the trust anchors"
fi
t_resolver_resolved=""
if [[ -n $t_resolver_fired ]] && wait_for 30 "MailTLSResolverNotValidating resolved" page_seen resolved --after "$t_anchor_restore" "${resolver_labels[@]}"; then
  t_resolver_resolved=$(page_seen resolved --after "$t_anchor_restore" "${resolver_labels[@]}")
  ok "webhook: MailTLSResolverNotValidating resolved, $(since "$t_anchor_restore" "$t_resolver_resolved")s after the reload"
else
  bad "webhook: MailTLSResolverNotValidating not resolved within 30 s of restoring the trust anchors"
fi
after_restore=$("$here/pages.py" list "$work/pages.jsonl" | awk -v t="$t_anchor_restore" '$1 >= t && $2 == "firing"')
if [[ -z $after_restore ]]; then
  ok "no page when the verdicts came back"
else
  bad "pages after restoring the trust anchors: $(tr '\n' ';' <<<"$after_restore")"
fi

# ------------------------------------------------------------------------------ report
echo "timeline (seconds after the command started):"
echo "  rotate-key: the new key was served $(since "$t_mutate" "$t_mutated")s after mutate started"
[[ -n $t_broken_fired ]] && echo "  MailTLSDaneBroken firing received:                  +$(since "$t_mutate" "$t_broken_fired")s after mutate"
[[ -n $t_f1_fired ]] && echo "  MailTLSTlsaNotUpdatedAfterRenewal firing received:  +$(since "$t_mutate" "$t_f1_fired")s after mutate"
[[ -n $t_broken_resolved ]] && echo "  MailTLSDaneBroken resolved received:                +$(since "$t_restore" "$t_broken_resolved")s after restore"
[[ -n $t_f1_resolved ]] && echo "  MailTLSTlsaNotUpdatedAfterRenewal resolved received: +$(since "$t_restore" "$t_f1_resolved")s after restore"
[[ -n $t_resolver_fired ]] && echo "  MailTLSResolverNotValidating firing received:       +$(since "$t_anchor" "$t_resolver_fired")s after the wrong-anchor reload"
[[ -n $t_resolver_resolved ]] && echo "  MailTLSResolverNotValidating resolved received:     +$(since "$t_anchor_restore" "$t_resolver_resolved")s after the right-anchor reload"
echo "pages received:"
"$here/pages.py" list "$work/pages.jsonl" | while read -r t rest; do
  printf '  +%6.1fs %s\n' "$(since "$T_START" "$t")" "$rest"
done
log "done"
echo "$passed passed, $failed failed"
((failed == 0))
