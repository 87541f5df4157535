# Sourced by the end-to-end alerting tests (paging_test.sh, tests/e2e/stories/stories_test.sh):
# the real path exporter -> Prometheus (the shipped rules) -> Alertmanager -> webhook, every
# server on 127.0.0.1 on a free port, the world's exporter config without its domain list.
# See docs/paging-test.md ("The shared stack") and docs/stories-test.md.
#
# Before sourcing, the test sets: exporter (the binary), WAIT_BUDGET (seconds: every wait
# ends by then), and may define stack_on_exit (called first in the EXIT trap, e.g. to restore a
# world mutation). Then, in order:
#   stack_preconditions; stack_use_world
#   stack_write_exporter_config <<EOF   (defaults:, domains:, ... appended to the world's)
#   stack_write_rules <for-duration> | stack_write_rules_scaled   (-> $work/rules.yml)
#   stack_write_prometheus_config <interval>; stack_write_alertmanager_config pager|pager+warnings
#   stack_start
# Provides ok/bad/log/since, wait_for, promq/prom_has/prom_value, page_seen, prom_firing,
# start_exporter/stop_exporter/reload_exporter, and $work, $exp_port, $prom_port, $am_port.
# shellcheck shell=bash

here_stack=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here_stack/../../.." && pwd)
world="$repo/tests/world/world.sh"
RUN_DIR=${MAILTLS_WORLD_DIR:-$repo/.world}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
exporter=$(readlink -f "$exporter")

T_START=$(date +%s.%N)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
log() { printf '[%6.1fs] %s\n' "$(elapsed "$T_START")" "$*"; }
elapsed() { python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# ------------------------------------------------------------------------------ cleanup
work=""
pids=()           # every process the test started, stopped by PID in the trap
exporter_pid=""
started_world=0
main_pid=$BASHPID
stack_cleanup() {
  local rc=$?
  # Only the test's own shell cleans up: a signal caught by a command-substitution subshell
  # in the instant after fork must not restore or kill while the test goes on.
  [[ $BASHPID == "$main_pid" ]] || exit "$rc"
  trap - EXIT INT TERM
  if declare -F stack_on_exit >/dev/null; then stack_on_exit; fi
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
trap stack_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T_DEADLINE=$(($(date +%s) + ${WAIT_BUDGET:?set WAIT_BUDGET before sourcing alerting_stack.sh}))

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
# prom_value <expr>: the value of the first series, empty when there is none.
prom_value() {
  curl -sf --max-time 5 -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys
d = json.load(sys.stdin)["data"]["result"]
print(d[0]["value"][1] if d else "")'
}
# firing alerts in Prometheus, as "alertname domain" lines (domain "-" when it has none)
prom_firing() {
  curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["state"] == "firing":
        print(a["labels"]["alertname"], a["labels"].get("domain", "-"))' | sort -u
}

page_seen() { "$here_stack/pages.py" seen "$work/pages.jsonl" "$@"; }

die_setup() {
  bad "setup: $*"
  echo "$passed passed, $failed failed"
  exit 1
}

# ------------------------------------------------------------------------------ setup
stack_preconditions() {
  [[ $(id -u) == 0 ]] || die_setup "run as root (the world's mutations need it)"
  [[ -x $exporter ]] || die_setup "no exporter binary at $exporter"
  [[ -x $PROMETHEUS ]] || die_setup "no Prometheus at $PROMETHEUS (Debian package prometheus)"
  [[ -x $ALERTMANAGER ]] || die_setup "no Alertmanager at $ALERTMANAGER (Debian package prometheus-alertmanager)"
}

# Uses a running world and leaves it running; starts one (stopped in the trap) if none runs.
# Makes $work and picks the ports.
stack_use_world() {
  if "$world" status 2>/dev/null | grep -q '^state: all'; then
    log "using the running world in $RUN_DIR (left running)"
  else
    log "no world running: starting one"
    started_world=1
    "$world" start || die_setup "world.sh start failed"
  fi
  [[ -s $RUN_DIR/exporter.yaml ]] || die_setup "no $RUN_DIR/exporter.yaml"
  work=$(mktemp -d "/tmp/$(basename "$0" .sh).XXXXXX")
  chmod 755 "$work"
  mkdir -p "$work/exporter-state" "$work/prometheus-data" "$work/alertmanager-data"
  exp_port=$(free_port) prom_port=$(free_port) am_port=$(free_port) hook_port=$(free_port)
}

# The world's config (resolver, anchors, CA, SMTP settings) without its defaults and domain
# list, then what the test gives on stdin.
stack_write_exporter_config() {
  awk '
    /^[^[:space:]#]/ { skip = ($0 ~ /^(defaults|domains|domain_files|tlsrpt_receiver):/) }
    !skip
  ' "$RUN_DIR/exporter.yaml" >"$work/exporter.yaml"
  cat >>"$work/exporter.yaml"
}

# The shipped rules with every `for:` set to one duration.
stack_write_rules() {
  "$repo/tests/ops/rules_for_e2e.sh" "$1" >"$work/rules.yml" || die_setup "rules_for_e2e.sh failed"
  stack_check_rules "^[[:space:]]+for: $1\$" "set every for: to $1"
}

# The shipped rules with every `for:` scaled from minutes to seconds (10m -> 10s, 1h -> 60s):
# a state must last as many probe intervals of the test as it must last probe intervals (5 min
# by default) in production, so a state seen by one probe only fires no alert in either.
stack_write_rules_scaled() {
  perl -pe 's/^(\s+for:\s*)(\d+)([mh])$/$1 . ($3 eq "h" ? $2 * 60 : $2) . "s"/e' \
    "$repo/alerts/mailtls.rules.yml" >"$work/rules.yml" || die_setup "scaling the rules' for: failed"
  stack_check_rules '^[[:space:]]+for: [0-9]+s$' "scale every for: to seconds"
}

stack_check_rules() {  # pattern every for: line must match, what failed
  local all
  all=$(grep -Ec '^[[:space:]]+for:' "$work/rules.yml")
  [[ $all -gt 0 && $all == $(grep -Ec "$1" "$work/rules.yml") ]] || die_setup "could not $2"
  promtool check rules "$work/rules.yml" >"$work/promtool-rules.log" 2>&1 ||
    die_setup "promtool check rules: $(tail -n3 "$work/promtool-rules.log")"
}

stack_write_prometheus_config() {  # scrape and evaluation interval
  cat >"$work/prometheus.yml" <<EOC
global:
  scrape_interval: $1
  scrape_timeout: $1
  evaluation_interval: $1
rule_files: ["$work/rules.yml"]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:$am_port"]}]
scrape_configs:
  - job_name: mailtls_exporter
    static_configs: [{targets: ["127.0.0.1:$exp_port"]}]
EOC
  promtool check config "$work/prometheus.yml" >"$work/promtool.log" 2>&1 ||
    die_setup "promtool check config: $(tail -n3 "$work/promtool.log")"
}

# pager: critical alerts page (the webhook's /page), everything else goes nowhere.
# pager+warnings: every other alert reaches the webhook too (/warning), so a test sees all.
# One group per alert, domain and MX; resolved alerts are sent.
stack_write_alertmanager_config() {
  local default_receiver='"null"' warnings_receiver=""
  if [[ $1 == pager+warnings ]]; then
    default_receiver=warnings
    warnings_receiver="
  - name: warnings
    webhook_configs:
      - url: \"http://127.0.0.1:$hook_port/warning\"
        send_resolved: true"
  fi
  cat >"$work/alertmanager.yml" <<EOC
route:
  receiver: $default_receiver
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
        send_resolved: true$warnings_receiver
EOC
  amtool check-config "$work/alertmanager.yml" >"$work/amtool.log" 2>&1 ||
    die_setup "amtool check-config: $(tail -n3 "$work/amtool.log")"
}

# ------------------------------------------------------------------------------ servers
start_exporter() {
  "$exporter" --config.file "$work/exporter.yaml" --web.listen-address "127.0.0.1:$exp_port" \
    --storage.path "$work/exporter-state" >>"$work/exporter.log" 2>&1 &
  exporter_pid=$!
  pids+=("$exporter_pid")
  wait_for 20 "the exporter" curl -sf --max-time 2 "http://127.0.0.1:$exp_port/-/ready"
}

# SIGTERM, as systemd stops it: the exporter saves its state and exits. 0 when it exited.
stop_exporter() {
  [[ -n $exporter_pid ]] || return 1
  kill -TERM "$exporter_pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$exporter_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$exporter_pid" 2>/dev/null; then return 1; fi
  wait "$exporter_pid" 2>/dev/null
  exporter_pid=""
}

reload_exporter() { [[ $(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$exp_port/-/reload") == 200 ]]; }

stack_start() {
  "$here_stack/webhook_receiver.py" 127.0.0.1 "$hook_port" "$work/pages.jsonl" 600 >"$work/webhook.log" 2>&1 &
  pids+=($!)
  start_exporter || die_setup "exporter not ready: $(tail -n3 "$work/exporter.log")"
  "$ALERTMANAGER" --config.file "$work/alertmanager.yml" --storage.path "$work/alertmanager-data" \
    --web.listen-address "127.0.0.1:$am_port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
  pids+=($!)
  "$PROMETHEUS" --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus-data" \
    --web.listen-address "127.0.0.1:$prom_port" --rules.alert.resend-delay 2s \
    >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  wait_for 10 "the webhook receiver" curl -sf --max-time 2 "http://127.0.0.1:$hook_port/" ||
    die_setup "webhook receiver did not start: $(tail -n3 "$work/webhook.log")"
  wait_for 30 "Alertmanager" curl -sf --max-time 2 "http://127.0.0.1:$am_port/-/ready" ||
    die_setup "Alertmanager not ready: $(tail -n3 "$work/alertmanager.log")"
  wait_for 30 "Prometheus" curl -sf --max-time 2 "http://127.0.0.1:$prom_port/-/ready" ||
    die_setup "Prometheus not ready: $(tail -n3 "$work/prometheus.log")"
  log "exporter :$exp_port, Prometheus :$prom_port, Alertmanager :$am_port, webhook :$hook_port (in $work)"
}
