#!/bin/bash
# End-to-end: mailed TLS-RPT reports through real MTAs, with DKIM (issue 21, docs/verdicts.md R11).
#
# In the running world (reporter.test is one of its signed zones), this test starts:
#   * OpenDKIM (Debian's opendkim) as a milter, signing for reporter.test and, to stand for a
#     signer that is not the reporting domain, evil.reporter.test;
#   * a Postfix on 127.0.4.1:25, the reporting organisation's outbound MTA, with that milter,
#     relaying everything to
#   * a Postfix on 127.0.4.2:25, the receiving MTA, delivering reports.test mail to a Maildir;
#   * the exporter, importing that Maildir every second with the default DKIM rule;
#   * a validating unbound on 127.0.4.53:53, so python3-dkim's dkimverify (the independent
#     verifier, run in a private mount namespace whose resolv.conf points there) sees the world.
# The DKIM keys are published with knotc into the signed zone (TTL 1, and the zone's negative
# TTL set to 1, so a withdrawn and restored key is seen at once by both verifiers).
#
# Cases, each checked against the exporter's /metrics and the Maildir, and compared with
# dkimverify: signed by the reporter -> pass (counted); one body byte changed -> dkim_fail;
# unsigned -> dkim_no_signature; signed by evil.reporter.test -> dkim_policy; key withdrawn ->
# kept in new/ and retried, then accepted once the key is back.
#
#   mail_dkim_world.sh <mailtls_exporter>    (root; the world must be running; MAILTLS_WORLD_DIR)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
EXPORTER=$(realpath "${1:?usage: $0 <mailtls_exporter binary>}")
WORLD_DIR=${MAILTLS_WORLD_DIR:-$REPO/.world}
# shellcheck disable=SC1091
source "$WORLD_DIR/world.env"
T=$WORLD_DIR/mail-dkim
ZONE=reporter.test
SENDER=127.0.4.1
RECEIVER=127.0.4.2
RESOLVER=127.0.4.53
MILTER_PORT=8891
WAIT_S=20  # bound on every wait

failures=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; failures=$((failures + 1)); }
die() { echo "error: $*" >&2; exit 1; }

PIDS=()
stop_all() {
  local pid
  [[ -f $T/sender/main.cf ]] && script -qec "postfix -c $T/sender stop" /dev/null >/dev/null 2>&1 || true
  [[ -f $T/receiver/main.cf ]] && script -qec "postfix -c $T/receiver stop" /dev/null >/dev/null 2>&1 || true
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  knotc -c "$KNOT_CONF" zone-abort "$ZONE" >/dev/null 2>&1 || true
}
trap stop_all EXIT

wait_for() {  # what command...: true within WAIT_S
  local what=$1 deadline=$((SECONDS + WAIT_S))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || { echo "timed out after ${WAIT_S}s waiting for $what" >&2; return 1; }
    sleep 0.2
  done
}

# ----------------------------------------------------------------------------------- DNS
knot_txn() {  # knotc zone-set/zone-unset arguments...; one transaction each, signed by Knot
  knotc -c "$KNOT_CONF" zone-begin "$ZONE" >/dev/null
  knotc -c "$KNOT_CONF" "$@" >/dev/null || { knotc -c "$KNOT_CONF" zone-abort "$ZONE" >/dev/null; return 1; }
  knotc -c "$KNOT_CONF" zone-commit "$ZONE" >/dev/null
}
key_txt() {  # opendkim-genkey's .txt -> the record's strings as zone-file text for knotc, each
  # "quoted" (<= 255 characters; ';' would start a comment otherwise) and shell-quoted around that
  tr -d '\n' <"$1" | grep -o '"[^"]*"' | tr -d '"\n \t' | sed 's/;/; /g' | fold -w 250 |
    sed "s/.*/'\"&\"'/" | tr '\n' ' '
}
publish_key() {  # owner (relative) .txt-file
  # shellcheck disable=SC2046  # one argument per string
  eval "knot_txn zone-set $ZONE $1 1 TXT $(key_txt "$2")"
}
withdraw_key() { knot_txn zone-unset "$ZONE" "$1" TXT; }
key_published() {  # name: a TXT answer at Knot
  kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +retry=0 +norec TXT "$1" 2>/dev/null | grep -q 'v=DKIM1'
}
# The same at the validating resolver dkimverify asks: it may still hold the withdrawn key's
# denial for a moment after Knot answers again.
key_at_resolver() { kdig @"$RESOLVER" +time=1 +retry=0 TXT "$1" 2>/dev/null | grep -q 'v=DKIM1'; }
key_gone() { ! key_published "$1" && kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +norec TXT "$1" 2>/dev/null | grep -q 'status: NXDOMAIN'; }

# ----------------------------------------------------------------------------------- MTAs
postfix_conf() {  # dir role
  local dir=$1 role=$2
  mkdir -p "$dir/spool" "$dir/data"
  chown postfix "$dir/data"
  {
    echo "compatibility_level = 3.6"
    echo "queue_directory = $dir/spool"
    echo "data_directory = $dir/data"
    echo "mail_owner = postfix"
    echo "setgid_group = postdrop"
    echo "inet_interfaces = all"
    echo "inet_protocols = ipv4"
    echo "mynetworks = 127.0.0.0/8"
    echo "mydestination ="
    echo "alias_maps ="
    echo "alias_database ="
    echo "local_transport = error:no local delivery"
    echo "smtp_dns_support_level = disabled"
    echo "smtputf8_enable = no"
    echo "biff = no"
    echo "maillog_file = $dir/maillog"
    echo "maillog_file_prefixes = $dir"
    if [[ $role == sender ]]; then
      echo "myhostname = mta.$ZONE"
      echo "relayhost = [$RECEIVER]:25"
      echo "smtpd_relay_restrictions = permit_mynetworks, reject"
      echo "smtpd_milters = inet:$SENDER:$MILTER_PORT"
      echo "milter_default_action = tempfail"
    else
      echo "myhostname = mx.reports.test"
      echo "relay_domains ="
      echo "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"
      echo "virtual_mailbox_domains = reports.test"
      echo "virtual_mailbox_base = $T/mail"
      echo "virtual_mailbox_maps = static:tlsrpt/"
      echo "virtual_minimum_uid = 100"
      echo "virtual_uid_maps = static:$(id -u nobody)"
      echo "virtual_gid_maps = static:$(id -g nobody)"
    fi
  } >"$dir/main.cf"
  {
    if [[ $role == sender ]]; then echo "$SENDER:smtp inet n - n - - smtpd"; else echo "$RECEIVER:smtp inet n - n - - smtpd"; fi
    # The services a relay and a virtual mailbox need, from the world's master.cf, plus virtual.
    grep -E '^(pickup|cleanup|qmgr|tlsmgr|rewrite|bounce|defer|trace|verify|flush|proxymap|proxywrite|smtp|relay|showq|error|retry|discard|anvil|scache|postlog) ' \
      "$POSTFIX_CONFIG_DIR/master.cf"
    echo "virtual   unix  -       n       n       -       -       virtual"
  } >"$dir/master.cf"
}
start_postfix() {  # dir address
  script -qec "postfix -c $1 start" /dev/null >"$1/start.out" 2>&1 || { cat "$1/start.out" >&2; die "postfix -c $1 start"; }
  wait_for "postfix on $2" bash -c "exec 3<>/dev/tcp/$2/25" 2>/dev/null
}

start_opendkim() {
  local k=$T/opendkim
  mkdir -p "$k"
  opendkim-genkey -b 2048 -d "$ZONE" -s tlsrpt -D "$k" && mv "$k/tlsrpt.private" "$k/reporter.private" && mv "$k/tlsrpt.txt" "$k/reporter.txt"
  opendkim-genkey -b 2048 -d "evil.$ZONE" -s tlsrpt -D "$k" && mv "$k/tlsrpt.private" "$k/evil.private" && mv "$k/tlsrpt.txt" "$k/evil.txt"
  printf 'reporter %s:tlsrpt:%s\nevil evil.%s:tlsrpt:%s\n' "$ZONE" "$k/reporter.private" "$ZONE" "$k/evil.private" >"$k/key.table"
  printf '*@%s reporter\n*@evil.%s evil\n' "$ZONE" "$ZONE" >"$k/signing.table"
  echo "127.0.0.0/8" >"$k/internal.hosts"
  cat >"$k/opendkim.conf" <<EOF
Syslog no
LogWhy yes
Mode s
Background no
Socket inet:$MILTER_PORT@$SENDER
UserID root
RequireSafeKeys no
Canonicalization relaxed/relaxed
KeyTable file:$k/key.table
SigningTable refile:$k/signing.table
InternalHosts refile:$k/internal.hosts
SignHeaders From,To,Subject,Date,Message-ID,MIME-Version,Content-Type,TLS-Report-Domain,TLS-Report-Submitter
EOF
  opendkim -x "$k/opendkim.conf" -f >"$k/opendkim.out" 2>&1 &
  PIDS+=($!)
  wait_for "opendkim on $SENDER:$MILTER_PORT" bash -c "exec 3<>/dev/tcp/$SENDER/$MILTER_PORT" 2>/dev/null
}

start_dkimverify_resolver() {  # a validating unbound for dkimverify's system resolver
  cat >"$T/unbound.conf" <<EOF
server:
    interface: $RESOLVER
    port: 53
    do-not-query-localhost: no
    local-zone: "test." nodefault
    username: ""
    chroot: ""
    directory: "$T"
    pidfile: "$T/unbound.pid"
    use-syslog: no
    logfile: "$T/unbound.log"
    trust-anchor-file: "$ANCHORS_FILE"
    cache-max-negative-ttl: 1
    cache-max-ttl: 1
stub-zone:
    name: "test."
    stub-addr: $DNS_ADDR@$DNS_PORT
EOF
  printf 'nameserver %s\n' "$RESOLVER" >"$T/resolv.conf"
  unbound -d -c "$T/unbound.conf" >"$T/unbound.out" 2>&1 &
  PIDS+=($!)
  wait_for "unbound on $RESOLVER" bash -c "kdig @$RESOLVER +time=1 +retry=0 SOA test. | grep -q NOERROR"
}
dkimverify_of() {  # file -> "signature ok" / "signature verification failed"
  # shellcheck disable=SC2016  # expanded by the inner sh
  unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec timeout 20 dkimverify <"$2"' sh "$T/resolv.conf" "$1" 2>&1 |
    tail -n1 || true
}
# The independent verdict: dkimverify's answer, the signing domain written in the message, and
# whether the key exists at Knot, under the same RFC 8460 §5.3 rule.
independent_verdict() {  # file
  local file=$1 out d
  out=$(dkimverify_of "$file")
  if ! grep -qi '^DKIM-Signature:' "$file"; then
    [[ $out == "signature verification failed" ]] && echo no_signature || echo "unexpected:$out"
    return
  fi
  d=$(tr -d '\r' <"$file" | awk 'BEGIN{IGNORECASE=1} /^DKIM-Signature:/{f=1} f{print} f&&/b=/{exit}' | tr -d ' \t\n' |
    grep -oE '(^|;)d=[^;]+' | head -n1 | sed 's/^;\?d=//')
  if [[ $out == "signature ok" ]]; then
    if [[ $d == "$ZONE" ]]; then echo pass; else echo policy; fi
  elif key_published "tlsrpt._domainkey.$d"; then
    echo fail
  else
    echo temporary
  fi
}

# ----------------------------------------------------------------------------------- reports
make_mail() {  # out id from-address
  local out=$1 id=$2 from=$3 json gz
  json=$T/reports/$id.json
  mkdir -p "$T/reports"
  cat >"$json" <<EOF
{"organization-name":"Reporter Org","date-range":{"start-datetime":"2026-12-01T00:00:00Z","end-datetime":"2026-12-01T23:59:59Z"},"contact-info":"tlsrpt@$ZONE","report-id":"$id","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: mx.sts-enforce.test","max_age: 86400"],"policy-domain":"sts-enforce.test","mx-host":["mx.sts-enforce.test"]},"summary":{"total-successful-session-count":10,"total-failure-session-count":2},"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"127.0.4.1","receiving-mx-hostname":"mx.sts-enforce.test","failed-session-count":2}]}]}
EOF
  gz=$(gzip -nc "$json" | base64 -w 76)
  cat >"$out" <<EOF
X-Case: $id
From: $from
To: tlsrpt@reports.test
Subject: Report Domain: sts-enforce.test Submitter: $ZONE Report-ID: <$id@$ZONE>
Date: $(date -R)
Message-ID: <$id@$ZONE>
TLS-Report-Domain: sts-enforce.test
TLS-Report-Submitter: $ZONE
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b-$id"

--b-$id
Content-Type: text/plain; charset=us-ascii

This is an aggregate TLS report from $ZONE.

--b-$id
Content-Type: application/tlsrpt+gzip; name="$ZONE!sts-enforce.test!1764547200!1764633599!$id.json.gz"
Content-Disposition: attachment; filename="$ZONE!sts-enforce.test!1764547200!1764633599!$id.json.gz"
Content-Transfer-Encoding: base64

$gz
--b-$id--
EOF
}
send() {  # server file envelope-from
  swaks --silent 2 --server "$1" --port 25 --from "$3" --to tlsrpt@reports.test --data "$2" >"$T/swaks.out" 2>&1 ||
    { cat "$T/swaks.out" >&2; die "swaks to $1 failed"; }
}
delivered() {  # id: the delivered file, wherever the exporter put it (X-Case is not signed)
  grep -l "^X-Case: $1\$" "$T"/mail/tlsrpt/{new,cur,rejected}/* 2>/dev/null | grep -v '\.note$' | head -n1 || true
}
metric() {  # name{labels} -> value (0 if absent)
  local v
  v=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk -v m="$1 " 'index($0, m) == 1 {print $NF; exit}')
  echo "${v:-0}"
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }
metric_at_least() { (($(metric "$1" | cut -d. -f1) >= $2)); }

# Runs one case: the verdict the exporter shows (via check_exporter) and the one dkimverify gives.
compare() {  # case id expected
  local file verdict
  file=$(delivered "$2")
  [[ -n $file ]] || { bad "$1: mail $2 not delivered"; return; }
  verdict=$(independent_verdict "$file")
  if [[ $verdict == "$3" ]]; then ok "$1: dkimverify agrees ($verdict)"; else bad "$1: dkimverify says $verdict, expected $3"; fi
}

# ----------------------------------------------------------------------------------- run
[[ $(id -u) == 0 ]] || die "run as root"
rm -rf "$T"
mkdir -p "$T/mail" "$T/state"
chmod 755 "$T"
chown nobody "$T/mail"
t0=$SECONDS

# The zone's negative TTL and the keys' TTL are 1 s, so a withdrawn key is gone at once.
serial=$(kdig @"$DNS_ADDR" -p "$DNS_PORT" +short SOA "$ZONE" | awk '{print $3}')
knot_txn zone-set "$ZONE" @ 1 SOA ns.test. hostmaster.test. $((serial + 1)) 3600 600 86400 1
start_opendkim
withdraw_key tlsrpt._domainkey 2>/dev/null || true  # a key left by an earlier run
withdraw_key tlsrpt._domainkey.evil 2>/dev/null || true
publish_key tlsrpt._domainkey "$T/opendkim/reporter.txt"
publish_key tlsrpt._domainkey.evil "$T/opendkim/evil.txt"
wait_for "DKIM keys at Knot" key_published "tlsrpt._domainkey.$ZONE"
wait_for "DKIM keys at Knot" key_published "tlsrpt._domainkey.evil.$ZONE"
start_dkimverify_resolver
postfix_conf "$T/receiver" receiver
postfix_conf "$T/sender" sender
start_postfix "$T/receiver" "$RECEIVER"
start_postfix "$T/sender" "$SENDER"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  sed '/^domains:/,$d' "$EXPORTER_CONFIG"
  printf 'tlsrpt_receiver:\n  enabled: true\n  maildir: %s\n  maildir_scan_interval: 1s\n' "$T/mail/tlsrpt"
  printf 'domains:\n  - name: sts-enforce.test\n'
} >"$T/exporter.yaml"
"$EXPORTER" --config.file="$T/exporter.yaml" --web.listen-address="127.0.0.1:$PORT" \
  --storage.path="$T/state" >"$T/exporter.log" 2>&1 &
PIDS+=($!)
wait_for "exporter /metrics" metric_is mailtls_tlsrpt_accept_unsigned_mail 0
echo "# started in $((SECONDS - t0)) s"

# 1. Signed by the reporting domain's MTA: accepted and counted.
make_mail "$T/r1.eml" r1 "tlsrpt@$ZONE"
send "$SENDER" "$T/r1.eml" "tlsrpt@$ZONE"
if wait_for "report r1 counted" metric_is 'mailtls_tlsrpt_reports_total{organization="Reporter Org"}' 1; then
  ok "signed: counted"
else bad "signed: not counted"; fi
metric_is 'mailtls_tlsrpt_mail_dkim_pass_total{key_dnssec="secure"}' 1 && ok "signed: key answer was DNSSEC-secure" ||
  bad "signed: mailtls_tlsrpt_mail_dkim_pass_total{key_dnssec=\"secure\"} is $(metric 'mailtls_tlsrpt_mail_dkim_pass_total{key_dnssec="secure"}')"
compare signed r1 pass

# 2. The delivered signed mail with one body byte changed, sent again to the receiving MTA.
signed=$(delivered r1)
sed -e 's/^X-Case: r1$/X-Case: r2/' -e 's/^This is an aggregate/this is an aggregate/' "$signed" |
  grep -v '^Return-Path:\|^Delivered-To:' >"$T/r2.eml"
send "$RECEIVER" "$T/r2.eml" "tlsrpt@$ZONE"
wait_for "r2 refused" metric_is 'mailtls_tlsrpt_reports_rejected_total{reason="dkim_fail"}' 1 &&
  ok "body changed: dkim_fail" || bad "body changed: not refused as dkim_fail"
compare body-changed r2 fail

# 3. Unsigned, straight to the receiving MTA.
make_mail "$T/r3.eml" r3 "tlsrpt@$ZONE"
send "$RECEIVER" "$T/r3.eml" "tlsrpt@$ZONE"
wait_for "r3 refused" metric_is 'mailtls_tlsrpt_reports_rejected_total{reason="dkim_no_signature"}' 1 &&
  ok "unsigned: dkim_no_signature" || bad "unsigned: not refused as dkim_no_signature"
compare unsigned r3 no_signature

# 4. Signed, validly, by evil.reporter.test, which is not the reporting domain.
make_mail "$T/r4.eml" r4 "tlsrpt@evil.$ZONE"
send "$SENDER" "$T/r4.eml" "tlsrpt@evil.$ZONE"
wait_for "r4 refused" metric_is 'mailtls_tlsrpt_reports_rejected_total{reason="dkim_policy"}' 1 &&
  ok "other signing domain: dkim_policy" || bad "other signing domain: not refused as dkim_policy"
compare other-signer r4 policy
# Refused mail is kept aside with the reason.
n=$(grep -l '^reason: dkim_' "$T"/mail/tlsrpt/rejected/*.note 2>/dev/null | wc -l)
[[ $n == 3 ]] && ok "3 refused mails in rejected/ with a note" || bad "$n notes in rejected/, expected 3"

# 5. The key withdrawn: the mail stays in new/ and is retried; accepted once the key is back.
withdraw_key tlsrpt._domainkey
wait_for "key withdrawn" key_gone "tlsrpt._domainkey.$ZONE"
make_mail "$T/r5.eml" r5 "tlsrpt@$ZONE"
send "$SENDER" "$T/r5.eml" "tlsrpt@$ZONE"
wait_for "r5 delivered" bash -c "ls '$T'/mail/tlsrpt/new/* >/dev/null 2>&1"
compare key-withdrawn r5 temporary
if wait_for "r5 tried twice" metric_at_least mailtls_tlsrpt_mail_dkim_deferred_total 2 &&
  [[ $(delivered r5) == "$T/mail/tlsrpt/new/"* ]]; then
  ok "key withdrawn: kept in new/ and retried ($(metric mailtls_tlsrpt_mail_dkim_deferred_total) deferrals)"
else bad "key withdrawn: not kept in new/ for a retry"; fi
publish_key tlsrpt._domainkey "$T/opendkim/reporter.txt"
wait_for "key back" key_published "tlsrpt._domainkey.$ZONE"
wait_for "r5 counted" metric_is 'mailtls_tlsrpt_reports_total{organization="Reporter Org"}' 2 &&
  ok "key back: r5 accepted on retry" || bad "key back: r5 not accepted"
wait_for "key back at dkimverify's resolver" key_at_resolver "tlsrpt._domainkey.$ZONE"
compare key-restored r5 pass

echo "# $((SECONDS - t0)) s in all"
if ((failures > 0)); then
  echo "--- exporter log (last 30 lines)"
  tail -n 30 "$T/exporter.log"
  exit 1
fi
