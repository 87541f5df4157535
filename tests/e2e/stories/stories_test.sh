#!/usr/bin/env bash
# The four stories of issue 18 (and a fifth and a sixth), replayed in the test world in real time, each judged by the
# real Prometheus (the shipped rules, every `for:` scaled from minutes to seconds) and
# Alertmanager (critical -> /page, everything else -> /warning of one webhook):
#   1. story-roll.test: a TLSA key rollover done right (publish the next record, wait until the
#      exporter says next_safe, switch the key, retire the old record), with the exporter
#      restarted in the middle: no page and no warning; safe-to-switch = first seen + 2 x TTL.
#   2. story-fast.test: the same rollover with the key switched as soon as the next record is
#      visible: MailTLSDaneRolloverTooFast fires and resolves when the switch would have been
#      safe; DANE stays valid, so no MailTLSDaneBroken.
#   3. story-sts.test: an MX host added while the enforce policy senders may hold does not
#      list it, the policy updated at the same time: MailTLSMtaStsCachedPolicyMxNotCovered
#      fires and resolves once max_age has passed; its $value counts down to the expiry of
#      that earlier policy (mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds).
#   4. dane-dualcert.test: TLSA for the ECDSA key only: DANE degraded, the RSA key type does
#      not match, MailTLSDaneDegraded fires; posttls-finger limited to each key type agrees.
#   5. story-sts.test again: the _mta-sts TXT record removed without a mode: none policy first:
#      MailTLSMtaStsWithdrawnWhileCached fires and resolves once max_age has passed.
#   6. story-down.test, at the same time as story 3: the enforce policy downgraded to testing:
#      MailTLSMtaStsDowngradedWhileCached fires and resolves once max_age has passed.
# Per story domain the set of alerts at the webhook must be exactly the expected one, and no
# alert may be about anything else. The world mutations are tests/world/stories.sh.
#
# usage: stories_test.sh <mailtls_exporter binary>     (as root; about 3 minutes)
# Uses a running world and leaves it running; starts one (and stops it) if none runs.
# Prints "N passed, N failed"; exits non-zero on any failure. See docs/stories-test.md.
set -uo pipefail

exporter=${1:?usage: $0 <mailtls_exporter binary>}
here=$(cd "$(dirname "$0")" && pwd)
ROLL=story-roll.test FAST=story-fast.test STS=story-sts.test DOWN=story-down.test DUAL=dane-dualcert.test
INTERVAL=2   # the exporter's probe interval (s); Prometheus scrapes and evaluates every second

# Every wait ends by then (s after start): the whole test, with mutations (each bounded by
# world.sh), the posttls-finger runs (30 s each at most) and cleanup, stays under CTest's 420 s.
WAIT_BUDGET=260
# shellcheck source=tests/e2e/paging/alerting_stack.sh
source "$here/../paging/alerting_stack.sh"
pages() { "$here/../paging/pages.py" "$1" "$work/pages.jsonl" "${@:2}"; }

mutated=0   # 1 once a story mutation may have been applied, until `restore stories` succeeded
stack_on_exit() {
  stop_ref_unbound 2>/dev/null
  if ((mutated)); then
    echo "cleanup: world.sh restore stories"
    "$world" restore stories >/dev/null || echo "cleanup: restore stories FAILED" >&2
  fi
}
mutate() {  # world.sh mutate <what>; the world is restored in the trap from then on
  mutated=1
  "$world" mutate "$1" >>"$work/mutate.log" 2>&1 || bad "world.sh mutate $1: $(tail -n2 "$work/mutate.log")"
}
now() { date +%s.%N; }
# near <a> <b> <tolerance>: |a - b| <= tolerance
near() { python3 -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= t else 1)' "$@"; }
# within <x> <low> <high>
within() { python3 -c 'import sys; x, lo, hi = map(float, sys.argv[1:]); sys.exit(0 if lo <= x <= hi else 1)' "$@"; }
# max_age_after <time> <t0>: time is max_age after the last serving of a policy that the probe
# after a change at t0 saw replaced: within one probe interval (and 5 s for a loaded machine).
max_age_after() {
  [[ -n $1 ]] && within "$1" "$(python3 -c "print($2 + $MAX_AGE)")" "$(python3 -c "print($2 + $MAX_AGE + $INTERVAL + 5)")"
}
# check_enforce_expiry <domain> <t0> <the change>: the cached enforce policy expires max_age
# after the change at t0. Sets expiry.
check_enforce_expiry() {
  expiry=$(prom_value "mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds{domain=\"$1\"}")
  if max_age_after "$expiry" "$2"; then
    ok "$1: cached enforce policy expires $(since "$2" "$expiry") s after $3 (max_age $MAX_AGE s after it was last served)"
  else
    bad "$1: cached enforce policy expiry '$expiry', want max_age after $3 ($2)"
  fi
}
# expect_cache_status <domain> <status> [<PromQL that must hold too> <its description>]
expect_cache_status() {
  local also=${3:+ and on () $3}
  if wait_for 20 "$1 $2" prom_has "mailtls_mtasts_sender_cache_status{domain=\"$1\",status=\"$2\"} == 1$also"; then
    ok "$1: sender cache status $2${4:+, $4}"
  else
    bad "$1: no $2${4:+ / $4} within 20 s"
  fi
}
# expect_no_enforce_cached <domain> <MTA-STS status>: after the cached enforce policy's expiry,
# nothing enforce is cached, the domain's MTA-STS status is as given and the expiry series is gone.
expect_no_enforce_cached() {
  if prom_has "mailtls_mtasts_sender_cache_status{domain=\"$1\",status=\"no_enforce_cached\"} == 1 and on () mailtls_mtasts_status{domain=\"$1\",status=\"$2\"} == 1 and on () absent(mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds{domain=\"$1\"})"; then
    ok "$1: after max_age, no_enforce_cached and MTA-STS $2, no expiry left"
  else
    bad "$1: not no_enforce_cached / $2 after max_age"
  fi
}
phase_is() { prom_has "mailtls_dane_rollover_phase{domain=\"$1\",phase=\"$2\"} == 1"; }
safe_to_switch() { prom_value "mailtls_dane_rollover_safe_to_switch_timestamp_seconds{domain=\"$1\"}"; }
# expect_phase <domain> <phase> <seconds> <why>
expect_phase() {
  if wait_for "$3" "$1 in phase $2" phase_is "$1" "$2"; then ok "$1: rollover phase $2 ($4)"; return 0; fi
  bad "$1: not in phase $2 within $3 s ($4); phases: $(curl -sf -G "http://127.0.0.1:$prom_port/api/v1/query" \
    --data-urlencode "query=mailtls_dane_rollover_phase{domain=\"$1\"} == 1" | grep -o '"phase":"[a-z_]*"')"
  return 1
}
# held_since <t0> <expr>: the expression held at every evaluation (resolution 1 s) since t0.
held_since() {
  local range=$(($(date +%s) - ${1%.*} + 1))
  prom_has "min_over_time(($2)[${range}s:1s]) == 1"
}
# never_since <t0> <expr>: the expression was never 1 since t0.
never_since() {
  local range=$(($(date +%s) - ${1%.*} + 1))
  ! prom_has "max_over_time(($2)[${range}s:1s]) == 1"
}
# alert_at_webhook <status> <seconds> <after> label=value...: waits; prints the receive time
alert_at_webhook() {
  local status=$1 limit=$2 after=$3
  shift 3
  wait_for "$limit" "$* $status at the webhook" page_seen "$status" --after "$after" "$@" || return 1
  page_seen "$status" --after "$after" "$@"
}

# dashboard_panels <domain> <MTA-STS domain> <panel title>...: every expression of those panels
# of the per-domain dashboard returns data now (tests/e2e/paging/dashboard_queries.py).
dashboard_panels() {
  local d=$1 s=$2 args=() t
  shift 2
  for t in "$@"; do args+=(--panel "$t"); done
  if timeout 30 "$here/../paging/dashboard_queries.py" "http://127.0.0.1:$prom_port" --domain "$d" \
    --sts-domain "$s" "${args[@]}" >"$work/dashboards.log" 2>&1; then
    ok "dashboard: $(paste -sd ',' <<<"$(printf "'%s'\n" "$@")") show data ($(tail -n1 "$work/dashboards.log"))"
  else
    bad "dashboard: $* without data: $(grep -E '^FAIL' "$work/dashboards.log" | head -n3 | tr '\n' ';')"
  fi
}

# warning_comes_and_goes <after what> <t0> <fire limit> <resolve limit> <not before> <its name>
#   label=value...: the warning with those labels fires at the webhook after t0 and resolves,
#   not before the time <not before>. Sets t_fired and t_resolved (empty when not seen).
warning_comes_and_goes() {
  local what=$1 t0=$2 fire_limit=$3 resolve_limit=$4 not_before=$5 not_before_name=$6 alert
  shift 6
  alert=${1#alertname=}
  t_resolved=""
  if ! t_fired=$(alert_at_webhook firing "$fire_limit" "$t0" "$@"); then
    t_fired=""
    bad "webhook: no $alert ($*)"
    return
  fi
  ok "webhook: $alert firing (warning) $(since "$t0" "$t_fired") s after $what"
  if ! t_resolved=$(alert_at_webhook resolved "$resolve_limit" "$t0" "$@"); then
    t_resolved=""
    bad "webhook: $alert never resolved"
  elif python3 -c "import sys; sys.exit(0 if $t_resolved >= $not_before else 1)"; then
    ok "webhook: $alert resolved $(since "$not_before" "$t_resolved") s after $not_before_name, not before"
  else
    bad "webhook: $alert resolved before $not_before_name"
  fi
}

stack_preconditions
stack_use_world
# shellcheck disable=SC1091
source "$RUN_DIR/world.env"
# shellcheck disable=SC1091
source "$RUN_DIR/tlsa.env"  # STORY_TLSA_TTL, STORY_STS_MAX_AGE (tests/world/stories.sh)
[[ -n ${STORY_TLSA_TTL:-} && -n ${STORY_STS_MAX_AGE:-} ]] || die_setup "the world has no story domains (tests/world/stories.sh)"
TTL=$STORY_TLSA_TTL MAX_AGE=$STORY_STS_MAX_AGE
mutated=1
"$world" restore stories >"$work/mutate.log" 2>&1 || die_setup "world.sh restore stories: $(tail -n2 "$work/mutate.log")"
mutated=0
stack_write_exporter_config <<EOF
defaults: {interval: ${INTERVAL}s, timeout: ${INTERVAL}s}
domains:
  - name: $ROLL
  - name: $FAST
  - name: $STS
  - name: $DOWN
EOF
cp "$work/exporter.yaml" "$work/exporter-stories-1-3.yaml"
stack_write_rules_scaled
stack_write_prometheus_config 1s
stack_write_alertmanager_config pager+warnings
stack_start

if wait_for 30 "the first state of the stories in Prometheus" prom_has \
  "mailtls_dane_rollover_phase{domain=~\"$ROLL|$FAST\",phase=\"steady\"} == 1 and on () count(mailtls_dane_status{domain=~\"$ROLL|$FAST\",status=\"valid\"} == 1) == 2 and on () count(mailtls_mtasts_sender_cache_status{domain=~\"$STS|$DOWN\",status=\"enforce_cached\"} == 1) == 2"; then
  ok "first state: $ROLL and $FAST DANE valid, rollover steady; $STS and $DOWN enforce policy cached, nothing else"
else
  bad "first state not reached: $(promq 'mailtls_dane_rollover_phase == 1') phase series"
fi
T_STORIES=$(now)

# ------------------------------------------------------------------------------ story 1
log "story 1 ($ROLL): publish the next key's TLSA record"
t_pub=$(now)
mutate story-roll-publish
expect_phase "$ROLL" next_published 30 "the next record is seen, not yet 2 x TTL old"
safe1=$(safe_to_switch "$ROLL")
first1=$(prom_value "mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds{domain=\"$ROLL\"}")
ttl1=$(prom_value "mailtls_dane_tlsa_original_ttl_seconds{domain=\"$ROLL\"}")
if [[ $ttl1 == "$TTL" ]]; then ok "$ROLL: Original TTL from the RRSIG is $ttl1 s"; else bad "$ROLL: Original TTL '$ttl1', want $TTL"; fi
if [[ -n $safe1 && -n $first1 ]] && near "$safe1" "$(python3 -c "print($first1 + 2 * $TTL)")" 0.01; then
  ok "$ROLL: safe-to-switch = first seen of the RRset with the next record + 2 x TTL ($(since "$t_pub" "$safe1") s after the publish)"
else
  bad "$ROLL: safe-to-switch '$safe1' is not first seen '$first1' + 2 x $TTL"
fi
# The exporter sees the record at its first probe after its resolver's copy of the old RRset
# expired: within one TTL and one probe interval (5 s more for a loaded machine).
if [[ -n $first1 ]] && within "$first1" "$t_pub" "$(python3 -c "print($t_pub + $TTL + $INTERVAL + 5)")"; then
  ok "$ROLL: first seen $(since "$t_pub" "$first1") s after the publish (at most TTL + probe interval, + 5 s slack)"
else
  bad "$ROLL: first seen '$first1' not within TTL + interval of the publish at $t_pub"
fi

dashboard_panels "$ROLL" "$STS" "Rollover phase per MX"
log "story 1: restart the exporter while waiting 2 x TTL"
if stop_exporter; then ok "exporter stopped by SIGTERM"; else bad "exporter did not stop within 10 s"; fi
# The rollover history is kept per MX host (tlsa_rollover_mx): one for each MX host of $ROLL.
rollover_saved() {
  python3 - "$work/exporter-state/state.json" "$ROLL" <<'PY' 2>/dev/null
import json, sys
sections = json.load(open(sys.argv[1]))["sections"]
hosts = [k.split(" ", 1)[1] for k in sections.get("tlsa_rrsets", {}) if k.split(" ", 1)[0] == sys.argv[2]]
sys.exit(0 if hosts and all(h in sections.get("tlsa_rollover_mx", {}) for h in hosts) else 1)
PY
}
if rollover_saved; then ok "state file holds the rollover history of $ROLL's MX hosts"; else bad "no rollover history of $ROLL's MX hosts in the state file"; fi
start_exporter || bad "exporter did not come back: $(tail -n3 "$work/exporter.log")"
restarted_phase() {
  curl -sf --max-time 2 "http://127.0.0.1:$exp_port/metrics" |
    awk -v d="$ROLL" '$1 ~ "^mailtls_dane_rollover_phase\\{" && index($1, "domain=\"" d "\"") && $2 == 1 { match($1, /phase="[a-z_]+"/); print substr($1, RSTART + 7, RLENGTH - 8) }'
}
restarted_probed() { [[ -n $(restarted_phase) ]]; }
wait_for 20 "the restarted exporter's first probe of $ROLL" restarted_probed
phase_after=$(restarted_phase)
safe_after=$(curl -sf --max-time 2 "http://127.0.0.1:$exp_port/metrics" |
  awk -v d="$ROLL" '$1 ~ "^mailtls_dane_rollover_safe_to_switch_timestamp_seconds\\{" && index($1, "domain=\"" d "\"") { print $2 }')
if [[ $phase_after == next_published || $phase_after == next_safe ]] && [[ -n $safe_after ]] && near "$safe_after" "$safe1" 0.01; then
  ok "after the restart: phase $phase_after, safe-to-switch unchanged (a lost history would say unknown)"
else
  bad "after the restart: phase '$phase_after', safe-to-switch '$safe_after' (before: next_published, $safe1)"
fi

# Story 4 starts now (its warning has a for: of 30 s): dane-dualcert.test joins by a reload.
cp "$work/exporter-stories-1-3.yaml" "$work/exporter.yaml"
printf '  - name: %s\n' "$DUAL" >>"$work/exporter.yaml"
t_dual=$(now)
if reload_exporter; then ok "story 4: $DUAL added to the configuration (reload)"; else bad "story 4: reload refused"; fi

expect_phase "$ROLL" next_safe 40 "the next record has been visible for 2 x TTL"
t_safe_seen=$(now)
if python3 -c "import sys; sys.exit(0 if $t_safe_seen >= $safe1 else 1)"; then
  ok "$ROLL: next_safe seen $(since "$safe1" "$t_safe_seen") s after the safe-to-switch time, not before"
else
  bad "$ROLL: next_safe seen before the safe-to-switch time ($t_safe_seen < $safe1)"
fi
log "story 1: switch the key"
mutate story-roll-switch
expect_phase "$ROLL" old_record_removable 20 "the old key is not presented any more"
log "story 1: retire the old record"
mutate story-roll-retire
expect_phase "$ROLL" steady 30 "only the new key's record, and it matches"
if held_since "$T_STORIES" "mailtls_dane_status{domain=\"$ROLL\",status=\"valid\"}"; then
  ok "$ROLL: DANE valid at every evaluation of story 1"
else
  bad "$ROLL: DANE not valid at some evaluation of story 1"
fi
if never_since "$T_STORIES" "mailtls_dane_rollover_phase{domain=\"$ROLL\",phase=~\"switched_too_fast|unknown\"}"; then
  ok "$ROLL: never switched_too_fast nor unknown (the history survived the restart)"
else
  bad "$ROLL: switched_too_fast or unknown at some evaluation"
fi
T_STORY2=$(now)

# ------------------------------------------------------------------------------ story 2
log "story 2 ($FAST): publish the next key's TLSA record, switch as soon as it is visible"
mutate story-fast-publish
expect_phase "$FAST" next_published 30 "the next record is seen"
safe2=$(safe_to_switch "$FAST")
t_switch2=$(now)
mutate story-fast-switch
expect_phase "$FAST" switched_too_fast 15 "the key was switched $(since "$t_switch2" "$safe2") s before it was safe"
safe2b=$(safe_to_switch "$FAST")
if [[ -n $safe2 && -n $safe2b ]] && near "$safe2b" "$safe2" 0.01; then
  ok "$FAST: the warning's end is the time the switch would have been safe (first seen + 2 x TTL)"
else
  bad "$FAST: safe-to-switch '$safe2b' while switched_too_fast, want '$safe2'"
fi
warning_comes_and_goes "the switch" "$t_switch2" 20 $((2 * TTL + 15)) "${safe2:-0}" "the safe-to-switch time" \
  alertname=MailTLSDaneRolloverTooFast "domain=$FAST" "mx=mx.$FAST" severity=warning
t_fast_fired=$t_fired t_fast_resolved=$t_resolved
expect_phase "$FAST" old_record_removable 10 "the risk is over, the old record can go"
mutate story-fast-retire
expect_phase "$FAST" steady 30 "only the new key's record"
if held_since "$T_STORY2" "mailtls_dane_status{domain=\"$FAST\",status=\"valid\"}"; then
  ok "$FAST: DANE valid at every evaluation (the TLSA set matched all along: no DANE-broken page)"
else
  bad "$FAST: DANE not valid at some evaluation of story 2"
fi

# ------------------------------------------------------------------------------ stories 3 and 6
# Both wait max_age for their warning to resolve, so they run at the same time.
log "story 3 ($STS): add MX mx2 and, at the same time, a policy that lists it"
covered() { prom_value "mailtls_mtasts_cached_policy_mx_covered{domain=\"$STS\",mx=\"$1\"}"; }
refused_until() { prom_value "mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds{domain=\"$STS\",mx=\"$1\"}"; }
t_mx=$(now)
mutate story-sts-add-mx
log "story 6 ($DOWN): the enforce policy made testing (new id)"
t_down=$(now)
mutate story-down-downgrade
expect_cache_status "$STS" mx_not_covered
if [[ $(covered "mx2.$STS") == 0 && $(covered "mx1.$STS") == 1 ]] &&
  prom_has "mailtls_mtasts_mx_covered{domain=\"$STS\",mx=\"mx2.$STS\"} == 1 and on () mailtls_mtasts_status{domain=\"$STS\",status=\"enforced\"} == 1"; then
  ok "$STS: mx2 covered by the policy served now but not by the cached one; mx1 by both; MTA-STS enforced"
else
  bad "$STS: cached coverage mx1 '$(covered "mx1.$STS")' mx2 '$(covered "mx2.$STS")' (want 1, 0), or the served policy does not cover mx2"
fi
# Senders refuse mx2 until the earlier policy expires: it was last served by the probe that saw
# the change, so max_age after the change, within one probe interval (and 5 s for a loaded
# machine). Only for mx2; and no later than the expiry of the policy served now (equal at the
# probe that saw the change, later ones serve the new policy again).
refused=$(refused_until "mx2.$STS")
if max_age_after "$refused" "$t_mx" &&
  [[ -z $(refused_until "mx1.$STS") ]] &&
  prom_has "mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds{domain=\"$STS\"} >= $refused"; then
  ok "$STS: senders may refuse mx2 until $(since "$t_mx" "$refused") s after the change (max_age $MAX_AGE s after the old policy was last served); no such series for mx1"
else
  bad "$STS: refused-until for mx2 '$refused' (want max_age after the change at $t_mx, no later than the served policy's expiry '$(prom_value "mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds{domain=\"$STS\"}")'), for mx1 '$(refused_until "mx1.$STS")' (want none)"
fi
expect_cache_status "$DOWN" downgraded "mailtls_mtasts_status{domain=\"$DOWN\",status=\"testing\"} == 1" "MTA-STS testing"
check_enforce_expiry "$DOWN" "$t_down" "the downgrade"
expiry6=$expiry
dashboard_panels "$ROLL" "$STS" "What senders may hold" "Cached enforce policy expires" "MX hosts and the cached enforce policies" \
  "MX hosts an earlier cached enforce policy does not cover, refused until"
# Halfway through: the alert's $value is the time left until the earlier policy expires (about
# max_age / 2), not until the policy served now expires (about max_age).
# alert_value <alertname> label=value...: the value of that firing alert in Prometheus
alert_value() {
  curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/alerts" | python3 -c '
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[1:])
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["state"] == "firing" and all(a["labels"].get(k) == v for k, v in want.items()):
        print(float(a["value"]))
        break' "alertname=$1" "${@:2}"
}
sleep "$(python3 -c "print(max(0, $t_mx + $MAX_AGE / 2 - $(now)))")"
value3=$(alert_value MailTLSMtaStsCachedPolicyMxNotCovered "domain=$STS" "mx=mx2.$STS")
t_value3=$(now)
if [[ -n $value3 && -n $refused ]] && near "$value3" "$(python3 -c "print($refused - $t_value3)")" 2; then
  ok "$STS: MailTLSMtaStsCachedPolicyMxNotCovered's \$value ${value3%.*} s = the time left until the earlier policy expires"
else
  bad "$STS: MailTLSMtaStsCachedPolicyMxNotCovered's \$value '$value3', want about $(since "$t_value3" "${refused:-0}") s"
fi
warning_comes_and_goes "the change" "$t_mx" 20 $((MAX_AGE + 25)) "$(python3 -c "print($t_mx + $MAX_AGE)")" \
  "max_age ($MAX_AGE s) after the change" \
  alertname=MailTLSMtaStsCachedPolicyMxNotCovered "domain=$STS" "mx=mx2.$STS" severity=warning
t_sts_fired=$t_fired t_sts_resolved=$t_resolved
if prom_has "mailtls_mtasts_sender_cache_status{domain=\"$STS\",status=\"enforce_cached\"} == 1 and on () absent(mailtls_mtasts_cached_policy_mx_covered{domain=\"$STS\"}) and on () absent(mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds{domain=\"$STS\"})"; then
  ok "$STS: after max_age, enforce_cached, no cached policy left that misses an MX (no coverage nor refused-until series)"
else
  bad "$STS: not back to enforce_cached after max_age, or refused-until series left"
fi
warning_comes_and_goes "the downgrade" "$t_down" 20 $((MAX_AGE + 25)) "${expiry6:-0}" "the cached policy's expiry" \
  alertname=MailTLSMtaStsDowngradedWhileCached "domain=$DOWN" severity=warning
t_down_fired=$t_fired t_down_resolved=$t_resolved
expect_no_enforce_cached "$DOWN" testing

# ------------------------------------------------------------------------------ story 5
log "story 5 ($STS): remove the _mta-sts TXT record, without serving mode: none first"
t_wd=$(now)
mutate story-sts-withdraw
expect_cache_status "$STS" withdrawn_without_none
# The last enforce policy was served until the probe that saw the record gone.
check_enforce_expiry "$STS" "$t_wd" "the removal"
warning_comes_and_goes "the removal" "$t_wd" 20 $((MAX_AGE + 25)) "${expiry:-0}" "the cached policy's expiry" \
  alertname=MailTLSMtaStsWithdrawnWhileCached "domain=$STS" severity=warning
t_wd_fired=$t_fired t_wd_resolved=$t_resolved
expect_no_enforce_cached "$STS" not_deployed

# ------------------------------------------------------------------------------ story 4
log "story 4 ($DUAL): the RSA certificate has no TLSA record"
kt_match() { prom_value "mailtls_dane_key_type_match{domain=\"$DUAL\",key_type=\"$1\"}"; }
if wait_for 20 "$DUAL degraded" prom_has "mailtls_dane_status{domain=\"$DUAL\",status=\"degraded\"} == 1" &&
  [[ $(kt_match ecdsa) == 1 && $(kt_match rsa) == 0 ]]; then
  ok "$DUAL: DANE degraded; key type ecdsa matches, rsa does not"
else
  bad "$DUAL: status or key types wrong (ecdsa '$(kt_match ecdsa)', rsa '$(kt_match rsa)')"
fi
dual_labels=(alertname=MailTLSDaneDegraded "domain=$DUAL" severity=warning)
if t_dual_fired=$(alert_at_webhook firing 50 "$t_dual" "${dual_labels[@]}"); then
  ok "webhook: MailTLSDaneDegraded firing (warning) $(since "$t_dual" "$t_dual_fired") s after the domain was added (for: 30 s)"
else
  bad "webhook: no MailTLSDaneDegraded for $DUAL"
fi
# Postfix's own verdict, limited to each key type (tests/world/posttls_finger_ref.sh).
# shellcheck source=tests/world/posttls_finger_ref.sh
source "$repo/tests/world/posttls_finger_ref.sh"
if ref_setup; then
  for kt in ecdsa rsa; do
    want=$([[ $(kt_match "$kt") == 1 ]] && echo verified || echo tls)
    got=$(ptf_key_type "$kt" -c -l dane "[mx.$DUAL]" | ptf_tls_result)
    if [[ $got == "$want" ]]; then ok "posttls-finger limited to $kt: $got, as our key type match says"; else
      bad "posttls-finger limited to $kt: $got, our key type match says $want"
    fi
  done
else
  bad "cannot start the reference resolver for posttls-finger (see $REF)"
fi
stop_ref_unbound

# ------------------------------------------------------------------------------ the whole set
# Two evaluations and a group interval more, so that whatever fired late has arrived.
sleep 4
declare -A expected=(
  [$ROLL]=""
  [$FAST]=$'MailTLSDaneRolloverTooFast firing warning\nMailTLSDaneRolloverTooFast resolved warning'
  [$STS]=$'MailTLSMtaStsCachedPolicyMxNotCovered firing warning\nMailTLSMtaStsCachedPolicyMxNotCovered resolved warning\nMailTLSMtaStsWithdrawnWhileCached firing warning\nMailTLSMtaStsWithdrawnWhileCached resolved warning'
  [$DOWN]=$'MailTLSMtaStsDowngradedWhileCached firing warning\nMailTLSMtaStsDowngradedWhileCached resolved warning'
  [$DUAL]="MailTLSDaneDegraded firing warning"
)
for d in "$ROLL" "$FAST" "$STS" "$DOWN" "$DUAL"; do
  got=$(pages set domain="$d")
  if [[ $got == "${expected[$d]}" ]]; then
    ok "webhook, $d: exactly [$(paste -sd ';' <<<"${expected[$d]}")]"
  else
    bad "webhook, $d: got [$(tr '\n' ';' <<<"$got")], want [$(tr '\n' ';' <<<"${expected[$d]}")]"
  fi
done
others=$(pages list | grep -v -e "domain=\"$ROLL\"" -e "domain=\"$FAST\"" -e "domain=\"$STS\"" -e "domain=\"$DOWN\"" -e "domain=\"$DUAL\"")
if [[ -z $others ]]; then ok "webhook: no alert about anything else (no page at all)"; else bad "webhook: other alerts: $(tr '\n' ';' <<<"$others")"; fi
if ! pages list | grep -q 'severity="critical"'; then ok "webhook: no page (critical) in any story"; else bad "webhook: pages: $(pages list | grep 'severity="critical"' | tr '\n' ';')"; fi
# Prometheus agrees: what fired during the stories is what reached the webhook.
fired=$(curl -sf --max-time 5 -G "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode \
  "query=count by (alertname, domain) (max_over_time(ALERTS{alertstate=\"firing\"}[$(($(date +%s) - ${T_START%.*} + 1))s]))" |
  python3 -c 'import json, sys; print(" ".join(sorted(r["metric"]["alertname"] + "/" + r["metric"].get("domain", "-") for r in json.load(sys.stdin)["data"]["result"])))')
want_fired="MailTLSDaneDegraded/$DUAL MailTLSDaneRolloverTooFast/$FAST MailTLSMtaStsCachedPolicyMxNotCovered/$STS MailTLSMtaStsDowngradedWhileCached/$DOWN MailTLSMtaStsWithdrawnWhileCached/$STS"
if [[ $fired == "$want_fired" ]]; then ok "Prometheus fired exactly: $fired"; else bad "Prometheus fired: [$fired], want [$want_fired]"; fi

log "world.sh restore stories"
if "$world" restore stories >>"$work/mutate.log" 2>&1; then mutated=0; ok "world restored"; else bad "world.sh restore stories failed"; fi

echo "timeline (seconds):"
echo "  story 1: first seen +$(since "$t_pub" "${first1:-$t_pub}") after publish, safe-to-switch +$(since "$t_pub" "${safe1:-$t_pub}"), next_safe seen +$(since "$t_pub" "$t_safe_seen")"
[[ -n ${t_fast_fired:-} ]] && echo "  story 2: warning +$(since "$t_switch2" "$t_fast_fired") after the switch, resolved +$(since "$safe2" "${t_fast_resolved:-$safe2}") after safe-to-switch"
[[ -n ${t_sts_fired:-} ]] && echo "  story 3: warning +$(since "$t_mx" "$t_sts_fired") after the change, resolved +$(since "$t_mx" "${t_sts_resolved:-$t_mx}") (max_age $MAX_AGE)"
[[ -n ${t_down_fired:-} ]] && echo "  story 6: warning +$(since "$t_down" "$t_down_fired") after the downgrade, resolved +$(since "$t_down" "${t_down_resolved:-$t_down}") (max_age $MAX_AGE)"
[[ -n ${t_wd_fired:-} ]] && echo "  story 5: warning +$(since "$t_wd" "$t_wd_fired") after the removal, resolved +$(since "$t_wd" "${t_wd_resolved:-$t_wd}") (max_age $MAX_AGE)"
[[ -n ${t_dual_fired:-} ]] && echo "  story 4: warning +$(since "$t_dual" "$t_dual_fired") after the reload"
echo "alerts received:"
pages list | while read -r t rest; do printf '  +%6.1fs %s\n' "$(since "$T_START" "$t")" "$rest"; done
log "done"
echo "$passed passed, $failed failed"
((failed == 0))
